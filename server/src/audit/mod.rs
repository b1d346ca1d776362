//! What the emulator learns from each OCI request after it is answered:
//! the audit trail in OCI's shape, usage counters with the bill they would
//! run up on OCI, and alerts. All of it is fed from the pipeline's `Record`
//! by the HTTP layer (`http::audit_api`), the same record the access log,
//! the metrics and the recent requests read.
//!
//! - this file: the OCI Audit API's wire model (`oci.audit.models`:
//!   `AuditEvent`, `Data`, `Identity`, `Request`, `Response`), which is also the
//!   shape of `GET /_emulator/audit` and of `--audit-log` lines.
//! - [`sink`]: the writer thread that stores events in batches and appends
//!   them to `--audit-log`.
//! - [`usage`]: per principal × operation × secret counters, the monthly
//!   bill at OCI's prices, cache advice.
//! - [`alerts`]: the built-in detectors and the alerts they raise.
//!
//! `eventType` is `com.oraclecloud.<source>.<Operation>`; Oracle does not
//! publish the source names of the Vault services' audit events (reference
//! §9, [UNCONFIRMED]), so [`source_of`] holds them in one place.

pub mod alerts;
pub mod sink;
pub mod usage;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `cloudEventsVersion` of every event (CloudEvents 0.1, as OCI).
pub const CLOUD_EVENTS_VERSION: &str = "0.1";
/// `eventTypeVersion` of every event (OCI's Audit v2 events).
pub const EVENT_TYPE_VERSION: &str = "2.0";

/// The `source` of an event by the service's name in `oci-operations.tsv`
/// (`kms-vault`, …); the `eventType` is `com.oraclecloud.<source>.<Operation>`.
pub fn source_of(service: &str) -> &'static str {
    match service {
        "kms-vault" | "kms-management" | "kms-crypto" => "kms",
        "vault-secrets" => "vaultmng",
        "secrets" => "secretretrieval",
        "audit" => "audit",
        _ => "emulator",
    }
}

/// `AuditEvent`: one request, CloudEvents envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// `com.oraclecloud.<source>.<Operation>`.
    pub event_type: String,
    /// [`CLOUD_EVENTS_VERSION`].
    pub cloud_events_version: String,
    /// [`EVENT_TYPE_VERSION`].
    pub event_type_version: String,
    /// The service (see [`source_of`]).
    pub source: String,
    /// A unique id of this event (UUID form).
    pub event_id: String,
    /// When the request was answered (RFC 3339, the emulator's clock).
    pub event_time: String,
    /// Always `application/json`.
    pub content_type: String,
    /// The event's payload.
    pub data: Data,
}

/// `Data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// The `opc-request-id` (OCI groups the events of one request by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_grouping_id: Option<String>,
    /// The operation (`GetSecretBundle`).
    pub event_name: String,
    /// The compartment of the target (the tenancy when none was resolved).
    pub compartment_id: String,
    /// The compartment's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compartment_name: Option<String>,
    /// The target's name (a secret's name, a vault's or key's display name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The target's OCID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The caller.
    pub identity: Identity,
    /// The request, without its body or `authorization` header.
    pub request: Request,
    /// The response, without its body.
    pub response: Response,
    /// The emulator's details (see [`AdditionalDetails`]).
    pub additional_details: AdditionalDetails,
}

/// `Identity`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The user's (principal's) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// The principal's OCID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `natv` for an API-key signature (OCI's value), else the principal
    /// kind (`instance`, `resource`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// The tenancy OCID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// `tenancy/user/fingerprint` from the signature's `keyId` (never a
    /// session token, never the signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// The `user-agent` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// `Request`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The `opc-request-id`.
    pub id: String,
    /// The path as sent.
    pub path: String,
    /// The HTTP method.
    pub action: String,
    /// Query parameters, name → values.
    pub parameters: BTreeMap<String, Vec<String>>,
    /// A fixed allow-list of headers (never `authorization`).
    pub headers: BTreeMap<String, Vec<String>>,
}

/// `Response`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The HTTP status, as a string (as OCI).
    pub status: String,
    /// When the response was made (RFC 3339).
    pub response_time: String,
    /// The OCI error code of an error answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Response headers of interest (`opc-request-id`, `etag`,
    /// `opc-next-page`, `opc-work-request-id`).
    pub headers: BTreeMap<String, Vec<String>>,
}

/// `Data.additionalDetails`: what the emulator knows beyond OCI's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalDetails {
    /// `SUCCEEDED`, `DENIED`, `FAILED`, `FAULTED`, `THROTTLED` or
    /// `NOT_IMPLEMENTED` (see [`result_of`]).
    pub result: String,
    /// `ALLOWED` or `DENIED` when IAM decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The decision's id (its explanation is at `/_emulator/decisions/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    /// The OCI error code answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `user`, `instance`, `resource`, ….
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// The caller's groups (names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The caller's dynamic groups (names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dynamic_groups: Vec<String>,
    /// The vault the request named or reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// The key the request named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The secret the request named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
    /// The secret version a bundle read returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_version_number: Option<u64>,
    /// The fault rules that fired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// The rate limits that rejected the call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<String>,
    /// A crypto call's `loggingContext` (Oracle: "information that is
    /// logged in audit logs").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_context: Option<BTreeMap<String, String>>,
}

/// How a request ended, for the `result` filter: a fault rule or rate
/// limit that fired and answered an error is `FAULTED` / `THROTTLED`; an
/// IAM denial `DENIED`; a 501 `NOT_IMPLEMENTED`; other errors `FAILED`.
pub fn result_of(status: u16, denied: bool, faulted: bool, throttled: bool) -> &'static str {
    match () {
        () if throttled => "THROTTLED",
        () if faulted && status >= 400 => "FAULTED",
        () if denied => "DENIED",
        () if status == 501 => "NOT_IMPLEMENTED",
        () if status >= 400 => "FAILED",
        () => "SUCCEEDED",
    }
}
