//! The route stage: which region a request is for (`/regions/<region>/…`,
//! else the emulator's own), which endpoint it came in on (regional, or a
//! vault's management or crypto endpoint, by path or by host name), and
//! which [`Operation`] its method and path name there.

use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};
use crate::operation::{route, Operation, PathParams, Route, Service, REGION_PREFIX};

/// Which endpoint a request came in on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The regional hosts: `kms`, `vaults`, `secrets.vaults`.
    Regional,
    /// A vault's `managementEndpoint`, by its endpoint key.
    Management(String),
    /// A vault's `cryptoEndpoint`, by its endpoint key.
    Crypto(String),
}

impl Endpoint {
    /// The vault endpoint key of a management or crypto endpoint.
    pub fn vault_key(&self) -> Option<&str> {
        match self {
            Endpoint::Management(k) | Endpoint::Crypto(k) => Some(k),
            Endpoint::Regional => None,
        }
    }
}

/// Splits a region prefix off a request path: `(Some("us-phoenix-1"),
/// "/20180608/vaults")` for `/regions/us-phoenix-1/20180608/vaults`,
/// `(None, path)` when the path has none. Whether the region exists is the
/// caller's question (the tenancy file's).
pub fn split_region(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix(REGION_PREFIX) {
        let (region, api) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if !region.is_empty() {
            return (Some(region), api);
        }
    }
    (None, path)
}

/// Splits a per-vault endpoint off a request: path style
/// `/kms/<vault-key>/management/20180608/…`, or host style
/// `<vault-key>-management.kms.<anything>`. Returns the endpoint and the
/// OCI API path that remains.
pub fn endpoint_of<'a>(host: Option<&str>, path: &'a str) -> (Endpoint, &'a str) {
    if let Some(rest) = path.strip_prefix("/kms/") {
        if let Some((vault_key, rest)) = rest.split_once('/') {
            if let Some(api) = rest.strip_prefix("management") {
                if api.is_empty() || api.starts_with('/') {
                    return (Endpoint::Management(vault_key.to_owned()), api);
                }
            }
            if let Some(api) = rest.strip_prefix("crypto") {
                if api.is_empty() || api.starts_with('/') {
                    return (Endpoint::Crypto(vault_key.to_owned()), api);
                }
            }
        }
    }
    if let Some(host) = host {
        let name = host.split(':').next().unwrap_or(host);
        if let Some((label, rest)) = name.split_once('.') {
            if rest.starts_with("kms.") {
                if let Some(vk) = label.strip_suffix("-management") {
                    return (Endpoint::Management(vk.to_owned()), path);
                }
                if let Some(vk) = label.strip_suffix("-crypto") {
                    return (Endpoint::Crypto(vk.to_owned()), path);
                }
            }
        }
    }
    (Endpoint::Regional, path)
}

/// Whether an operation is served at this kind of endpoint.
fn served_at(service: Service, endpoint: &Endpoint) -> bool {
    matches!(
        (service, endpoint),
        (Service::KmsManagement, Endpoint::Management(_))
            | (Service::KmsCrypto, Endpoint::Crypto(_))
            | (
                Service::KmsVault | Service::VaultSecrets | Service::Secrets | Service::Audit,
                Endpoint::Regional
            )
    )
}

/// Whether `operation` is served under another region's prefix
/// (`/regions/<region>/…`): the KMS APIs are, since a vault and its replica
/// live in different regions, and so are secret management and retrieval,
/// since a secret lives in its vault's region and its replicas in theirs.
pub fn served_in_other_regions(operation: Operation) -> bool {
    matches!(
        operation.service(),
        Service::KmsVault
            | Service::KmsManagement
            | Service::KmsCrypto
            | Service::VaultSecrets
            | Service::Secrets
    )
}

/// Why no operation answers a request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unrouted {
    /// No operation has this path at this endpoint: 404
    /// `NotAuthorizedOrNotFound`, OCI's code for any path it does not
    /// serve, with a message that says where key and crypto calls go.
    NotFound,
    /// The path has operations, but not for this method: 405
    /// `MethodNotAllowed` with an `Allow` header naming the methods it has.
    MethodNotAllowed(Vec<Method>),
}

impl IntoResponse for Unrouted {
    fn into_response(self) -> Response {
        match self {
            Unrouted::NotFound => ApiError::new(
                ErrorCode::NotAuthorizedOrNotFound,
                "There is no operation at this path and method (check the endpoint: key and crypto calls go to a vault's managementEndpoint / cryptoEndpoint).",
            )
            .into_response(),
            Unrouted::MethodNotAllowed(methods) => {
                let mut response = ApiError::new(
                    ErrorCode::MethodNotAllowed,
                    "The method is not allowed on this resource.",
                )
                .into_response();
                let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
                if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                response
            }
        }
    }
}

/// The operation a request names, with its path parameters and endpoint.
///
/// # Errors
/// [`Unrouted`]: an unknown path, an operation asked of the wrong kind of
/// endpoint (key calls at the regional endpoint, say), or a known path with
/// another method.
pub fn operation_of(
    method: &Method,
    host: Option<&str>,
    path: &str,
) -> Result<(Operation, PathParams, Endpoint), Unrouted> {
    let (endpoint, api_path) = endpoint_of(host, path);
    match route(method, api_path) {
        Route::Found(op, params) if served_at(op.service(), &endpoint) => {
            Ok((op, params, endpoint))
        }
        Route::MethodNotAllowed(methods) => Err(Unrouted::MethodNotAllowed(methods)),
        _ => Err(Unrouted::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_endpoints_name_their_vault() {
        let (e, rest) = endpoint_of(Some("127.0.0.1:4585"), "/kms/abc/management/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Management("abc".into()), "/20180608/keys")
        );
        let (e, rest) = endpoint_of(None, "/kms/abc/crypto/20180608/encrypt");
        assert_eq!(
            (e, rest),
            (Endpoint::Crypto("abc".into()), "/20180608/encrypt")
        );
        let (e, rest) = endpoint_of(None, "/kms/abc/managementx/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Regional, "/kms/abc/managementx/20180608/keys")
        );
    }

    #[test]
    fn a_region_prefix_is_split_off_before_the_endpoint() {
        assert_eq!(
            split_region("/regions/us-phoenix-1/kms/abc/management/20180608/keys"),
            (Some("us-phoenix-1"), "/kms/abc/management/20180608/keys")
        );
        assert_eq!(
            split_region("/regions/us-phoenix-1"),
            (Some("us-phoenix-1"), "")
        );
        assert_eq!(split_region("/regions//x"), (None, "/regions//x"));
        assert_eq!(split_region("/20180608/vaults"), (None, "/20180608/vaults"));
    }

    #[test]
    fn host_style_endpoints_name_their_vault() {
        let (e, rest) = endpoint_of(Some("abc-management.kms.localhost:4585"), "/20180608/keys");
        assert_eq!(
            (e, rest),
            (Endpoint::Management("abc".into()), "/20180608/keys")
        );
        let (e, _) = endpoint_of(Some("abc-crypto.kms.example.test"), "/20180608/encrypt");
        assert_eq!(e, Endpoint::Crypto("abc".into()));
        let (e, _) = endpoint_of(Some("localhost:4585"), "/20180608/vaults");
        assert_eq!(e, Endpoint::Regional);
    }

    #[test]
    fn operations_are_served_only_at_their_endpoint() {
        let key_at_regional = operation_of(&Method::GET, None, "/20180608/keys/k1");
        assert_eq!(key_at_regional.unwrap_err(), Unrouted::NotFound);
        let (op, params, endpoint) =
            operation_of(&Method::GET, None, "/kms/vk/management/20180608/keys/k1").unwrap();
        assert_eq!(op, Operation::GetKey);
        assert_eq!(params, vec![("keyId", "k1".to_owned())]);
        assert_eq!(endpoint.vault_key(), Some("vk"));
        let wrong_method = operation_of(&Method::DELETE, None, "/20180608/vaults/v1");
        assert_eq!(
            wrong_method.unwrap_err(),
            Unrouted::MethodNotAllowed(vec![Method::GET, Method::PUT])
        );
    }
}
