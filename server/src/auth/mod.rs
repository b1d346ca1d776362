//! Authentication: who sent a request. [`signature`] checks an OCI request
//! signature against a [`KeyStore`]; [`authenticate`] does that against the
//! tenancy's API keys and answers the caller's [`Principal`].
//!
//! Every request is verified in full, on its own: nothing here caches a
//! verification result (the parsed public keys are cached by the tenancy).

pub mod signature;

use axum::http::{HeaderMap, Method};
use time::OffsetDateTime;

use crate::crypto::PublicKey;
use crate::iam::tenancy::{Principal, Tenancy};
pub use signature::{AuthError, KeyId, KeyStore, SignedRequest};

impl KeyStore for Tenancy {
    fn public_key(&self, key_id: &KeyId) -> Option<&PublicKey> {
        self.api_key(&key_id.tenancy, &key_id.user, &key_id.fingerprint)
            .map(|(key, _)| key)
    }
}

/// Verifies the request's signature with the tenancy's API keys (at the
/// wall-clock time `now`) and answers the principal of the key's user.
///
/// # Errors
/// Why the request is not authenticated ([`AuthError`]; 401
/// `NotAuthenticated` on the wire).
pub fn authenticate(
    tenancy: &Tenancy,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Principal, AuthError> {
    let request = SignedRequest {
        method,
        path_and_query,
        headers,
        body,
    };
    let verified = signature::verify(&request, tenancy, now)?;
    let id = &verified.key_id;
    tenancy
        .api_key(&id.tenancy, &id.user, &id.fingerprint)
        .map(|(_, principal)| principal)
        .ok_or_else(|| AuthError::UnknownKey(id.to_string()))
}
