//! Authentication: who sent a request. [`signature`] checks an OCI request
//! signature; [`authenticate`] does that with the tenancy's API keys
//! (`<tenancy>/<user>/<fingerprint>`) or with the session key a security
//! token is bound to (`ST$<jwt>`: session tokens, instance principals,
//! resource principals v2.2) and answers the caller's [`Principal`].
//!
//! - [`tokens`]: the JWTs the emulator issues and verifies.
//! - [`pki`]: the CA, intermediate and per-instance leaf certificates of
//!   instance principals.
//! - [`Authority`]: the emulator's "auth service" (its token key and PKI),
//!   issuing session, instance-principal and resource-principal tokens.
//!
//! Every request is verified in full, on its own: nothing here caches a
//! verification result (the parsed API keys are cached by the tenancy).
//! A token's expiry is read at the emulator's clock (virtual time); the
//! signed `date` at the wall clock, as before.

pub mod pki;
pub mod signature;
pub mod tokens;

use std::borrow::Cow;

use axum::http::{HeaderMap, Method};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::crypto::PublicKey;
use crate::iam::tenancy::{Principal, Tenancy};
pub use signature::{AuthError, KeyId, KeyStore, SignedRequest};
use tokens::{claim, int_claim, TokenError, TokenKey};

impl KeyStore for Tenancy {
    fn public_key(&self, key_id: &KeyId) -> Option<&PublicKey> {
        self.api_key(&key_id.tenancy, &key_id.user, &key_id.fingerprint)
            .map(|(key, _)| key)
    }
}

/// The longest lifetime a token may be given, in seconds (24 hours: OCI's
/// session tokens refresh up to a day).
pub const MAX_TTL_SECONDS: i64 = 86_400;

/// The auth service, ready now or being made on a thread of its own.
///
/// Its three RSA-2048 keys (token signing, CA, intermediate) took most of
/// the time from start to healthy; without `--data-dir` they are generated
/// after the listener is up. API-key requests never wait for them; the
/// first request that needs them (an `ST$` token, the instance-principal
/// endpoints) waits until they exist. Dereferences to the [`Authority`].
#[derive(Debug, Clone)]
pub struct AuthorityCell(std::sync::Arc<std::sync::OnceLock<Authority>>);

impl AuthorityCell {
    /// An authority that is ready.
    pub fn ready(authority: Authority) -> Self {
        let cell = std::sync::OnceLock::new();
        let _ = cell.set(authority);
        Self(std::sync::Arc::new(cell))
    }

    /// An authority `make` builds on a new thread. Should `make` fail (the
    /// system's RSA key generation failing), the process logs why and
    /// exits 1: every later token request would otherwise wait forever.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn in_background(
        make: impl FnOnce() -> anyhow::Result<Authority> + Send + 'static,
    ) -> anyhow::Result<Self> {
        let cell = std::sync::Arc::new(std::sync::OnceLock::new());
        let filled = cell.clone();
        std::thread::Builder::new()
            .name("auth-keys".into())
            .spawn(move || match make() {
                Ok(authority) => {
                    let _ = filled.set(authority);
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "cannot make the auth keys; stopping");
                    std::process::exit(1);
                }
            })?;
        Ok(Self(cell))
    }
}

impl std::ops::Deref for AuthorityCell {
    type Target = Authority;

    /// Waits, the first time, until the keys exist.
    fn deref(&self) -> &Authority {
        self.0.wait()
    }
}

/// The emulator's auth service: the key its tokens are signed with, the
/// instance-principal PKI, and the lifetime of instance-principal tokens.
#[derive(Debug)]
pub struct Authority {
    /// The token-signing key.
    pub tokens: TokenKey,
    /// CA, intermediate and leaves.
    pub pki: pki::Pki,
    /// Lifetime of tokens `POST /v1/x509` issues (`--token-ttl-seconds`).
    pub instance_token_ttl: i64,
}

/// Who a verified keyId names.
enum Caller {
    ApiKey(KeyId),
    Token(Box<Principal>, PublicKey),
}

impl Authority {
    /// The auth service from stored keys (`--data-dir`) or fresh ones.
    ///
    /// # Errors
    /// A stored key that does not parse.
    pub fn new(keys: StoredKeys<'_>, instance_token_ttl: i64) -> anyhow::Result<Self> {
        let tokens = match keys.token_key {
            Some(der) => TokenKey::from_pkcs8(der)?,
            None => TokenKey::generate()?,
        };
        Ok(Self {
            tokens,
            pki: pki::Pki::new(keys.ca_key, keys.intermediate_key)?,
            instance_token_ttl,
        })
    }

    /// The claims of `token` if this emulator issued it for `tenancy` and
    /// it has not expired at `now`, with the principal it names and the
    /// session key it is bound to.
    ///
    /// # Errors
    /// [`TokenError`].
    pub fn verify_token(
        &self,
        tenancy: &Tenancy,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(Map<String, Value>, Principal, PublicKey), TokenError> {
        let claims = self.tokens.verify(token)?;
        let exp = int_claim(&claims, "exp").ok_or(TokenError::MissingClaim)?;
        if now.unix_timestamp() >= exp {
            return Err(TokenError::Expired);
        }
        let key = tokens::key_of_jwk(claim(&claims, "jwk").ok_or(TokenError::MissingClaim)?)?;
        let principal = principal_of(tenancy, &claims)?;
        Ok((claims, principal, key))
    }

    /// Signs `claims` with the bookkeeping every token carries: `iss`,
    /// `aud`, `iat`, `nbf`, `exp` (`now` + `ttl` seconds), `jti`, and
    /// `jwk` of the session public key (SPKI DER).
    ///
    /// # Errors
    /// A session key that is not RSA 2048–8192 ([`TokenError::BadKey`]).
    pub fn issue(
        &self,
        mut claims: Map<String, Value>,
        session_spki: &[u8],
        ttl: i64,
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let iat = now.unix_timestamp();
        let jti: String = crate::crypto::random_bytes(16)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        for (name, value) in [
            ("iss", json!(tokens::ISSUER)),
            ("aud", json!("oci")),
            ("iat", json!(iat)),
            ("nbf", json!(iat)),
            ("exp", json!(iat.saturating_add(ttl))),
            ("jti", json!(jti)),
            ("jwk", json!(tokens::jwk_of_spki(session_spki)?)),
        ] {
            claims.insert(name.to_owned(), value);
        }
        self.tokens.sign(&claims).map_err(|_| TokenError::BadKey)
    }

    /// A session token for a tenancy user (`POST /_emulator/tokens/session`,
    /// `oci session authenticate`'s result): (token, its private key PEM).
    /// `sess_exp` caps refreshes at a day from now.
    ///
    /// # Errors
    /// [`TokenError::UnknownPrincipal`] for a user not in the tenancy.
    pub fn session_token(
        &self,
        tenancy: &Tenancy,
        user: &str,
        ttl: i64,
        now: OffsetDateTime,
    ) -> Result<(String, Zeroizing<String>), TokenError> {
        let user = tenancy.user(user).ok_or(TokenError::UnknownPrincipal)?;
        let (private_pem, spki) = tokens::session_key_pair().map_err(|_| TokenError::BadKey)?;
        let mut claims = Map::new();
        for (name, value) in [
            ("sub", json!(user.id)),
            ("tenant", json!(tenancy.id())),
            ("ptype", json!("user")),
            ("ttype", json!("login")),
            (
                "sess_exp",
                json!(now.unix_timestamp().saturating_add(MAX_TTL_SECONDS)),
            ),
        ] {
            claims.insert(name.to_owned(), value);
        }
        Ok((self.issue(claims, &spki, ttl, now)?, private_pem))
    }

    /// A resource principal session token (RPST, v2.2) and its private key
    /// PEM for a resource of `resource_type` in `compartment_id`; claims
    /// `res_tenant`, `res_compartment`, `res_type`, `res_id`, `res_tag`,
    /// `ptype: resource`, `opc-certtype: resource` (reference §15).
    ///
    /// # Errors
    /// [`TokenError::BadKey`] if no key could be made (never expected).
    pub fn resource_principal_token(
        &self,
        tenancy: &Tenancy,
        resource_type: &str,
        resource_id: &str,
        compartment_id: &str,
        ttl: i64,
        now: OffsetDateTime,
    ) -> Result<(String, Zeroizing<String>), TokenError> {
        let (private_pem, spki) = tokens::session_key_pair().map_err(|_| TokenError::BadKey)?;
        let mut claims = Map::new();
        for (name, value) in [
            ("sub", json!(resource_id)),
            ("res_tenant", json!(tenancy.id())),
            ("res_compartment", json!(compartment_id)),
            ("res_type", json!(resource_type)),
            ("res_id", json!(resource_id)),
            ("res_tag", json!("")),
            ("ptype", json!("resource")),
            ("opc-certtype", json!("resource")),
            ("ttype", json!("res_pr")),
        ] {
            claims.insert(name.to_owned(), value);
        }
        Ok((self.issue(claims, &spki, ttl, now)?, private_pem))
    }

    /// An instance-principal token for a verified leaf, bound to the
    /// session key the SDK sent (`POST /v1/x509`).
    ///
    /// # Errors
    /// [`TokenError::BadKey`] for a session key that is not RSA.
    pub fn instance_token(
        &self,
        leaf: &pki::LeafIdentity,
        session_spki: &[u8],
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let mut claims = Map::new();
        for (name, value) in [
            ("sub", json!(leaf.instance_id)),
            ("opc-instance", json!(leaf.instance_id)),
            ("opc-compartment", json!(leaf.compartment_id)),
            ("opc-tenant", json!(leaf.tenant_id)),
            ("tenant", json!(leaf.tenant_id)),
            ("opc-certtype", json!("instance")),
            ("ptype", json!("instance")),
            ("ttype", json!("x509")),
            ("fprint", json!(leaf.fingerprint)),
        ] {
            claims.insert(name.to_owned(), value);
        }
        self.issue(claims, session_spki, self.instance_token_ttl, now)
    }

    /// `POST /v1/authentication/refresh`: a new token with the claims and
    /// session key of a valid one, for as long again (a session token no
    /// longer than its `sess_exp`).
    ///
    /// # Errors
    /// [`TokenError`] for a token that does not verify or has expired, or
    /// a session past `sess_exp`.
    pub fn refresh(
        &self,
        tenancy: &Tenancy,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let (mut claims, _, _) = self.verify_token(tenancy, token, now)?;
        let (iat, exp) = (
            int_claim(&claims, "iat").ok_or(TokenError::MissingClaim)?,
            int_claim(&claims, "exp").ok_or(TokenError::MissingClaim)?,
        );
        let mut new_exp = now.unix_timestamp().saturating_add(exp.saturating_sub(iat));
        if let Some(limit) = int_claim(&claims, "sess_exp") {
            if now.unix_timestamp() >= limit {
                return Err(TokenError::Expired);
            }
            new_exp = new_exp.min(limit);
        }
        let jti: String = crate::crypto::random_bytes(16)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        claims.insert("iat".into(), json!(now.unix_timestamp()));
        claims.insert("nbf".into(), json!(now.unix_timestamp()));
        claims.insert("exp".into(), json!(new_exp));
        claims.insert("jti".into(), json!(jti));
        self.tokens.sign(&claims).map_err(|_| TokenError::BadKey)
    }
}

/// Keys kept from an earlier start in `--data-dir` (each `None` to make a
/// new one).
#[derive(Default)]
pub struct StoredKeys<'a> {
    /// The token key, PKCS #8 DER.
    pub token_key: Option<&'a [u8]>,
    /// The CA key, PKCS #8 PEM.
    pub ca_key: Option<&'a str>,
    /// The intermediate's key, PKCS #8 PEM.
    pub intermediate_key: Option<&'a str>,
}

/// The principal a verified token's claims name, in `tenancy`.
fn principal_of(tenancy: &Tenancy, claims: &Map<String, Value>) -> Result<Principal, TokenError> {
    let tenant = match claim(claims, "ptype") {
        Some("resource") => claim(claims, "res_tenant"),
        _ => claim(claims, "tenant"),
    }
    .ok_or(TokenError::MissingClaim)?;
    if tenant != tenancy.id() {
        return Err(TokenError::ForeignTenancy);
    }
    match claim(claims, "ptype").ok_or(TokenError::MissingClaim)? {
        "user" => {
            let id = claim(claims, "sub").ok_or(TokenError::MissingClaim)?;
            let user = tenancy
                .file
                .users
                .iter()
                .find(|u| u.id == id)
                .ok_or(TokenError::UnknownPrincipal)?;
            Ok(tenancy.user_principal(user))
        }
        "instance" => {
            let id = claim(claims, "opc-instance").ok_or(TokenError::MissingClaim)?;
            let instance = tenancy.instance(id).ok_or(TokenError::UnknownPrincipal)?;
            Ok(tenancy.instance_principal(instance))
        }
        "resource" => {
            let (Some(id), Some(kind), Some(compartment)) = (
                claim(claims, "res_id"),
                claim(claims, "res_type"),
                claim(claims, "res_compartment"),
            ) else {
                return Err(TokenError::MissingClaim);
            };
            if !tenancy.has_compartment(compartment) {
                return Err(TokenError::UnknownPrincipal);
            }
            Ok(tenancy.resource_principal(id, kind, compartment))
        }
        _ => Err(TokenError::UnknownPrincipal),
    }
}

/// Verifies the request's signature, with an API key of the tenancy or
/// the session key of an `ST$` token, and answers the caller. `wall_now`
/// checks the signed date, `now` (the emulator's clock) a token's expiry.
///
/// # Errors
/// Why the request is not authenticated ([`AuthError`]; 401
/// `NotAuthenticated` on the wire).
#[allow(clippy::too_many_arguments)]
pub fn authenticate(
    tenancy: &Tenancy,
    authority: &AuthorityCell,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    wall_now: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Principal, AuthError> {
    let request = SignedRequest {
        method,
        path_and_query,
        headers,
        body,
    };
    let caller = signature::verify_with(
        &request,
        wall_now,
        true,
        |key_id| match key_id.strip_prefix("ST$") {
            Some(token) => {
                let (_, principal, key) = authority
                    .verify_token(tenancy, token, now)
                    .map_err(AuthError::Token)?;
                Ok(Caller::Token(Box::new(principal), key))
            }
            None => KeyId::parse(key_id).map(Caller::ApiKey),
        },
        |caller| match caller {
            Caller::Token(_, key) => Ok(Cow::Owned(key.clone())),
            Caller::ApiKey(id) => tenancy
                .public_key(id)
                .map(Cow::Borrowed)
                .ok_or_else(|| AuthError::UnknownKey(id.to_string())),
        },
    )?;
    match caller {
        Caller::Token(principal, _) => Ok(*principal),
        Caller::ApiKey(id) => tenancy
            .api_key(&id.tenancy, &id.user, &id.fingerprint)
            .map(|(_, principal)| principal)
            .ok_or_else(|| AuthError::UnknownKey(id.to_string())),
    }
}

/// Verifies a `POST /v1/x509` request: the leaf (and intermediates) against
/// the emulator's CA at `now`, the request signature with the leaf's key
/// under keyId `<tenancy>/fed-x509/<SHA-1 fingerprint>` (signed headers
/// `date (request-target) content-length content-type x-content-sha256`,
/// no `host`, as the SDKs' federation signer sends), the tenancy and the
/// instance; answers the leaf's identity.
///
/// # Errors
/// [`AuthError`] (401 `NotAuthenticated`).
#[allow(clippy::too_many_arguments)]
pub fn authenticate_x509(
    tenancy: &Tenancy,
    authority: &Authority,
    request: &SignedRequest<'_>,
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    wall_now: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<pki::LeafIdentity, AuthError> {
    let leaf = authority
        .pki
        .verify_leaf(leaf_der, intermediates, now)
        .map_err(AuthError::Certificate)?;
    if leaf.tenant_id != tenancy.id() || tenancy.instance(&leaf.instance_id).is_none() {
        return Err(AuthError::Token(TokenError::UnknownPrincipal));
    }
    let expected = format!("{}/fed-x509/{}", leaf.tenant_id, leaf.fingerprint);
    signature::verify_with(
        request,
        wall_now,
        false,
        |key_id| {
            if key_id == expected {
                Ok(())
            } else {
                Err(AuthError::UnknownKey(key_id.to_owned()))
            }
        },
        |()| Ok(&leaf.public_key),
    )?;
    Ok(leaf)
}
