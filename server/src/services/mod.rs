//! One module per OCI API surface, each holding its wire types (named after
//! the OCI SDK models) and thin handlers: extract → convert → domain →
//! convert. [`dispatch`] is the one place an [`Operation`] meets its handler.
//!
//! A handler gets the request's resolved [`Target`] in its [`Ctx`] and never
//! loads it again; writes hand the resolved resource to the domain, which
//! checks it is still current inside the write's transaction.

pub mod audit;
pub mod common;
pub mod kms_crypto;
pub mod kms_management;
pub mod kms_vaults;
pub mod secret_bundles;
pub mod secret_rotation;
pub mod secrets;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use time::OffsetDateTime;

use crate::domain::target::Target;
use crate::error::{ApiError, ErrorCode};
use crate::operation::{Operation, PathParams};
use crate::state::AppState;

/// One authenticated, routed, resolved and authorised OCI request.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The operation.
    pub operation: Operation,
    /// Path parameters, percent-decoded.
    pub params: PathParams,
    /// The raw query string.
    pub query: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body (already size-limited).
    pub body: Bytes,
    /// The caller's OCID (the scope of `opc-retry-token`).
    pub principal_id: String,
    /// `http://host:port` clients reach the emulator at, for vault endpoints.
    pub base_url: String,
    /// The region the request is addressed to, when it is not the
    /// emulator's own `--region` (a `/regions/<region>/…` path).
    pub region: Option<String>,
    /// The emulator's time for this request: the target was settled at it,
    /// and everything the request writes carries it.
    pub now: OffsetDateTime,
    /// What the request names, loaded once by the pipeline's resolver.
    pub target: &'a Target,
}

impl Ctx<'_> {
    /// A path parameter by its template name (always present once routed).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// A query parameter, percent-decoded; 400 for a malformed query string.
    pub fn query(&self, name: &str) -> Result<Option<String>, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&self.query)
            .map_err(|_| ApiError::invalid("The query string is malformed."))?;
        Ok(pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v))
    }

    /// A required query parameter (400 `MissingParameter` when absent).
    pub fn required_query(&self, name: &'static str) -> Result<String, ApiError> {
        self.query(name)?.filter(|v| !v.is_empty()).ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingParameter,
                format!("The query parameter {name} is required."),
            )
        })
    }

    /// A query parameter that must be a non-negative integer within OCI's
    /// `int64` (the SDK models type `versionNumber` as a 64-bit long):
    /// `None` when absent; 400 `InvalidParameter` for text, a negative
    /// number or one above `i64::MAX`.
    pub fn query_number(&self, name: &'static str) -> Result<Option<u64>, ApiError> {
        self.query(name)?
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "The query parameter {name} must be a non-negative 64-bit integer."
                        ))
                    })
            })
            .transpose()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What a write to a resolved resource needs, owned so it can move into
    /// the store's closure: the resource (404 when the request's target has
    /// none) and the `if-match` header.
    pub fn for_write<T: Clone>(
        &self,
        resource: crate::domain::Result<&T>,
    ) -> Result<(T, Option<String>), ApiError> {
        Ok((resource?.clone(), self.if_match().map(str::to_owned)))
    }

    /// The name of the region the request is addressed to (`us-phoenix-1`):
    /// its `/regions/<region>/…` prefix, else the emulator's `--region`.
    pub fn region_name<'a>(&'a self, app: &'a AppState) -> &'a str {
        self.region.as_deref().unwrap_or(&app.config.region)
    }

    /// The base URL of the region the request is addressed to: the
    /// emulator's, with `/regions/<region>` for another region.
    pub fn regional_base_url(&self) -> String {
        regional_base_url(&self.base_url, self.region.as_deref())
    }

    /// The `if-match` header.
    pub fn if_match(&self) -> Option<&str> {
        self.header("if-match")
    }

    /// The scope under which an `opc-retry-token` is remembered: operation,
    /// caller and token, so two users' tokens never collide.
    pub fn retry_scope(&self) -> Option<String> {
        self.header("opc-retry-token")
            .filter(|t| !t.is_empty())
            .map(|t| format!("{}/{}/{t}", self.operation.name(), self.principal_id))
    }

    /// Parses the JSON body as `T`. Invalid JSON → 400 `CannotParseRequest`;
    /// a wrong type, unknown enum value or missing field → 400
    /// `InvalidParameter` naming the field. Messages never echo string values.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::new(
                ErrorCode::MissingParameter,
                "The request body is required.",
            ));
        }
        parse_json(&self.body)
    }

    /// Like [`Ctx::json`], but an empty body is `None` (optional bodies).
    pub fn json_opt<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_json(&self.body).map(Some)
    }

    /// Checks that `compartment_id` is the tenancy or one of its
    /// compartments; OCI hides which it is, so an unknown one is 404
    /// `NotAuthorizedOrNotFound`.
    pub fn known_compartment(&self, app: &AppState, compartment_id: &str) -> Result<(), ApiError> {
        if app.tenancy.has_compartment(compartment_id) {
            Ok(())
        } else {
            Err(ApiError::not_found())
        }
    }

    /// Checks that the compartment a move goes into is the tenancy or one of
    /// its compartments: it is named in the body, so an unknown one is 400
    /// `RelatedResourceNotAuthorizedOrNotFound`, the same answer as a
    /// destination the caller may not move into (IAM's denial).
    pub fn known_destination(&self, app: &AppState, compartment_id: &str) -> Result<(), ApiError> {
        if app.tenancy.has_compartment(compartment_id) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::RelatedResourceNotAuthorizedOrNotFound,
                crate::error::related_not_found("compartment", compartment_id),
            ))
        }
    }

    /// A query parameter that must be one of `allowed` (400 otherwise).
    pub fn query_enum(
        &self,
        name: &'static str,
        allowed: &[&str],
    ) -> Result<Option<String>, ApiError> {
        match self.query(name)? {
            Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::invalid(format!(
                "{name} must be one of {}.",
                allowed.join(", ")
            ))),
            other => Ok(other),
        }
    }
}

/// The base URL of `region` (`None`: the emulator's own): `base_url`, or
/// `base_url/regions/<region>`, where that region's KMS endpoints answer.
pub fn regional_base_url(base_url: &str, region: Option<&str>) -> String {
    match region {
        None => base_url.to_owned(),
        Some(r) => format!("{base_url}{}{r}", crate::operation::REGION_PREFIX),
    }
}

/// Parses JSON with field paths in errors (see [`Ctx::json`]).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => ApiError::new(
                ErrorCode::CannotParseRequest,
                "The request body is not valid JSON.",
            ),
            serde_json::error::Category::Data if inner.to_string().starts_with("missing field") => {
                let detail = redact_values(&inner.to_string());
                let at = if path == "." {
                    String::new()
                } else {
                    format!(" in {path}")
                };
                ApiError::new(
                    ErrorCode::MissingParameter,
                    format!("A required field is absent{at}: {detail}."),
                )
            }
            serde_json::error::Category::Data => {
                let detail = redact_values(&inner.to_string());
                if path == "." {
                    ApiError::invalid(format!("Invalid request body: {detail}."))
                } else {
                    ApiError::invalid(format!("Invalid value for {path}: {detail}."))
                }
            }
        }
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            ErrorCode::CannotParseRequest,
            "The request body has data after its JSON value.",
        )
    })?;
    Ok(value)
}

/// Removes quoted string values from serde's messages (`invalid type: string
/// "…", expected …`), so a misplaced secret never reaches an error body.
fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("string \"") {
        out.push_str(&rest[..start + "string".len()]);
        let after = &rest[start + "string \"".len()..];
        match after.find("\", ").or_else(|| after.rfind('"')) {
            Some(end) => rest = &after[end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A successful answer: status, JSON body (or none), and the headers OCI
/// sends with it.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    body: Option<Vec<u8>>,
    etag: Option<String>,
    next_page: Option<String>,
    /// Other OCI response headers (`opc-work-request-id`, `opc-content-md5`).
    headers: Vec<(&'static str, String)>,
    /// The secret version a bundle read returned, for the audit event.
    secret_version: Option<u64>,
}

/// A response extension naming the secret version a bundle read returned,
/// which the pipeline's record (and so the audit event) takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretVersionRead(pub u64);

impl Reply {
    /// 200 with `value` as JSON.
    pub fn json<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(&e.into()))?;
        Ok(Self {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            next_page: None,
            headers: Vec::new(),
            secret_version: None,
        })
    }

    /// 200 with `body`, already JSON (the audit trail's stored documents).
    pub fn raw_json(body: Vec<u8>) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            next_page: None,
            headers: Vec::new(),
            secret_version: None,
        }
    }

    /// 200 with no body (the SDK models these operations with no response type).
    pub fn empty() -> Self {
        Self {
            status: StatusCode::OK,
            body: None,
            etag: None,
            next_page: None,
            headers: Vec::new(),
            secret_version: None,
        }
    }

    /// Adds the `etag` header.
    pub fn etag(mut self, etag: &str) -> Self {
        self.etag = Some(etag.to_owned());
        self
    }

    /// Adds `opc-next-page` when there is a next page (absent on the last page).
    pub fn next_page(mut self, page: Option<String>) -> Self {
        self.next_page = page;
        self
    }

    /// Adds `opc-work-request-id`: the work request of an operation OCI runs
    /// asynchronously (backups, restores, replica changes).
    pub fn work_request(self, id: &str) -> Self {
        self.header("opc-work-request-id", id)
    }

    /// Adds another response header OCI sends for this operation.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Names the secret version this answer returned (for the audit event).
    pub fn secret_version(mut self, version_number: u64) -> Self {
        self.secret_version = Some(version_number);
        self
    }

    /// Answers 202 Accepted instead of 200 (an operation OCI accepts and
    /// completes later, here already completed).
    pub fn accepted(mut self) -> Self {
        self.status = StatusCode::ACCEPTED;
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => {
                let mut r = (self.status, Body::from(body)).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            None => (self.status, Body::empty()).into_response(),
        };
        if let Some(etag) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        if let Some(page) = self.next_page.and_then(|p| HeaderValue::from_str(&p).ok()) {
            response.headers_mut().insert("opc-next-page", page);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if let Some(n) = self.secret_version {
            response.extensions_mut().insert(SecretVersionRead(n));
        }
        response
    }
}

/// Whether `operation` is served at a vault's replica: reads (`GET`) and
/// cryptographic operations are; every management write is not (Oracle,
/// "Replicating Vaults and Keys": "you can't perform management operations
/// directly on the vault replica and its keys").
pub fn served_at_replica(operation: Operation) -> bool {
    operation.spec().method == axum::http::Method::GET
        || operation.service() == crate::operation::Service::KmsCrypto
}

/// Refuses a management write addressed to a vault's replica region: 409
/// `Conflict` (a permanent condition, which the SDKs do not retry; OCI's
/// code for it is not documented).
fn refuse_writes_at_replica(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let Some(vault) = &ctx.target.vault else {
        return Ok(());
    };
    let at_replica = crate::domain::replicas::view(vault, ctx.region.as_deref())
        == Some(crate::domain::replicas::View::Replica);
    if at_replica && !served_at_replica(ctx.operation) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Vault {} is a replica in this region; {} is a management operation, served only in the vault's primary region.",
                vault.id,
                ctx.operation.name()
            ),
        ));
    }
    Ok(())
}

/// Refuses a write to a secret addressed to one of its replica regions
/// (Oracle's "Replicating Secrets": "the replica is read-only"), unless the
/// source's `replicationConfig.isWriteForwardEnabled`: then the write goes
/// on, and acts on the source, which the replica is a view of. Refused: 409
/// `Conflict`, as at a vault's replica (OCI's code is not documented).
fn refuse_writes_at_secret_replica(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let (Some(secret), Some(_)) = (&ctx.target.secret, &ctx.target.secret_replica) else {
        return Ok(());
    };
    let forwarding = secret
        .replication
        .as_ref()
        .is_some_and(|c| c.is_write_forward_enabled);
    // Secret management's writes; bundle reads (`GetSecretBundleByName` is
    // a POST) are served at every replica.
    let write = ctx.operation.service() == crate::operation::Service::VaultSecrets
        && ctx.operation.spec().method != axum::http::Method::GET;
    if write && !forwarding {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Secret {} is a read-only replica in this region and write forwarding is off; {} is served in the source secret's region.",
                secret.id,
                ctx.operation.name()
            ),
        ));
    }
    Ok(())
}

/// Calls the handler of `ctx.operation` (after refusing management writes
/// at a vault's replica and writes at a secret's replica).
pub async fn dispatch(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    use Operation::*;
    refuse_writes_at_replica(ctx)?;
    refuse_writes_at_secret_replica(ctx)?;
    match ctx.operation {
        CreateVault => kms_vaults::create_vault(app, ctx).await,
        GetVault => kms_vaults::get_vault(app, ctx).await,
        ListVaults => kms_vaults::list_vaults(app, ctx).await,
        UpdateVault => kms_vaults::update_vault(app, ctx).await,
        ScheduleVaultDeletion => kms_vaults::schedule_vault_deletion(app, ctx).await,
        CancelVaultDeletion => kms_vaults::cancel_vault_deletion(app, ctx).await,
        ChangeVaultCompartment => kms_vaults::change_vault_compartment(app, ctx).await,
        GetVaultUsage => kms_vaults::get_vault_usage(app, ctx).await,
        CreateVaultReplica => kms_vaults::create_vault_replica(app, ctx).await,
        DeleteVaultReplica => kms_vaults::delete_vault_replica(app, ctx).await,
        ListVaultReplicas => kms_vaults::list_vault_replicas(app, ctx).await,
        UpdateRegisteredVaultForMtls => {
            kms_vaults::update_registered_vault_for_mtls(app, ctx).await
        }
        GetReplicationStatus => kms_management::get_replication_status(app, ctx).await,
        BackupVault => kms_vaults::backup_vault(app, ctx).await,
        RestoreVaultFromFile => kms_vaults::restore_vault_from_file(app, ctx).await,
        RestoreVaultFromObjectStore => kms_vaults::restore_vault_from_object_store(app, ctx).await,
        BackupKey => kms_management::backup_key(app, ctx).await,
        RestoreKeyFromFile => kms_management::restore_key_from_file(app, ctx).await,
        RestoreKeyFromObjectStore => kms_vaults::from_object_store(ctx),
        CreateKey => kms_management::create_key(app, ctx).await,
        GetKey => kms_management::get_key(app, ctx).await,
        ListKeys => kms_management::list_keys(app, ctx).await,
        UpdateKey => kms_management::update_key(app, ctx).await,
        EnableKey => kms_management::set_key_enabled(app, ctx, true).await,
        DisableKey => kms_management::set_key_enabled(app, ctx, false).await,
        ScheduleKeyDeletion => kms_management::schedule_key_deletion(app, ctx).await,
        CancelKeyDeletion => kms_management::cancel_key_deletion(app, ctx).await,
        ChangeKeyCompartment => kms_management::change_key_compartment(app, ctx).await,
        ChangeSecretCompartment => secrets::change_secret_compartment(app, ctx).await,
        CreateKeyVersion => kms_management::create_key_version(app, ctx).await,
        ListKeyVersions => kms_management::list_key_versions(app, ctx).await,
        GetKeyVersion => kms_management::get_key_version(app, ctx).await,
        ScheduleKeyVersionDeletion => kms_management::schedule_key_version_deletion(app, ctx).await,
        CancelKeyVersionDeletion => kms_management::cancel_key_version_deletion(app, ctx).await,
        Encrypt => kms_crypto::encrypt(app, ctx).await,
        Decrypt => kms_crypto::decrypt(app, ctx).await,
        GenerateDataEncryptionKey => kms_crypto::generate_data_encryption_key(app, ctx).await,
        Sign => kms_crypto::sign(app, ctx).await,
        ExportKey => kms_crypto::export_key(app, ctx).await,
        GetWrappingKey => kms_management::get_wrapping_key(app, ctx).await,
        ImportKey => kms_management::import_key(app, ctx).await,
        ImportKeyVersion => kms_management::import_key_version(app, ctx).await,
        Verify => kms_crypto::verify(app, ctx).await,
        CreateSecret => secrets::create_secret(app, ctx).await,
        GetSecret => secrets::get_secret(app, ctx).await,
        ListSecrets => secrets::list_secrets(app, ctx).await,
        UpdateSecret => secrets::update_secret(app, ctx).await,
        ListSecretVersions => secrets::list_secret_versions(app, ctx).await,
        GetSecretVersion => secrets::get_secret_version(app, ctx).await,
        ScheduleSecretDeletion => secrets::schedule_secret_deletion(app, ctx).await,
        CancelSecretDeletion => secrets::cancel_secret_deletion(app, ctx).await,
        ScheduleSecretVersionDeletion => secrets::schedule_secret_version_deletion(app, ctx).await,
        CancelSecretVersionDeletion => secrets::cancel_secret_version_deletion(app, ctx).await,
        RotateSecret => secret_rotation::rotate_secret(app, ctx).await,
        CancelSecretRotation => secret_rotation::cancel_secret_rotation(app, ctx).await,
        GetSecretBundle => secret_bundles::get_secret_bundle(app, ctx).await,
        GetSecretBundleByName => secret_bundles::get_secret_bundle_by_name(app, ctx).await,
        ListSecretBundleVersions => secret_bundles::list_secret_bundle_versions(app, ctx).await,
        ListEvents => audit::list_events(app, ctx).await,
        GetConfiguration => audit::get_configuration(app, ctx).await,
        UpdateConfiguration => audit::update_configuration(app, ctx).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Probe {
        display_name: String,
        count: Option<u32>,
    }

    fn code_and_message(body: &str) -> (ErrorCode, String) {
        let e = parse_json::<Probe>(body.as_bytes()).unwrap_err();
        (e.code, e.message.into_owned())
    }

    #[test]
    fn broken_json_cannot_be_parsed() {
        assert_eq!(
            code_and_message("{\"displayName\":").0,
            ErrorCode::CannotParseRequest
        );
        assert_eq!(
            code_and_message("{\"displayName\":\"x\"}xyz").0,
            ErrorCode::CannotParseRequest
        );
    }

    #[test]
    fn wrong_types_name_the_field_but_not_the_value() {
        let (code, message) = code_and_message(r#"{"displayName": "x", "count": "hunter2"}"#);
        assert_eq!(code, ErrorCode::InvalidParameter);
        assert!(message.contains("count"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn missing_fields_are_missing_parameters() {
        let (code, message) = code_and_message("{}");
        assert_eq!(code, ErrorCode::MissingParameter);
        assert!(message.contains("displayName"), "{message}");
    }
}
