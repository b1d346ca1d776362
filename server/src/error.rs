//! The OCI error codes this emulator emits and the one error type that
//! becomes an HTTP response.
//!
//! Statuses and codes live only here (OCI "API Errors",
//! <https://docs.oracle.com/en-us/iaas/Content/API/References/apierrors.htm>).
//! The body is `{"code","message"}`, which is exactly what the `oci` SDKs
//! parse into `ServiceError.code` / `.message`. The `opc-request-id` header is
//! added by the request-id layer in `http`, so errors raised anywhere (a
//! caught panic included) carry it.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::domain;
use crate::iam::authz::Denial;
use crate::iam::eval::Role;

/// An OCI error code and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: the body is not parseable JSON.
    CannotParseRequest,
    /// 400: a parameter is invalid or malformed.
    InvalidParameter,
    /// 400: a required parameter is absent.
    MissingParameter,
    /// 400: a resource named in the body is missing or not authorised.
    RelatedResourceNotAuthorizedOrNotFound,
    /// 400: the request would exceed an Oracle-defined limit.
    LimitExceeded,
    /// 401: missing or wrong authentication, bad signature, clock skew.
    NotAuthenticated,
    /// 404: the resource in the URI does not exist or may not be seen.
    NotAuthorizedOrNotFound,
    /// 404: no operation at that path.
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: a state conflict that will not resolve by itself.
    Conflict,
    /// 409: a state conflict (the SDKs retry this one).
    IncorrectState,
    /// 409: a create the caller may not make, or that already exists.
    NotAuthorizedOrResourceAlreadyExists,
    /// 400: `content-md5` does not match the body (RestoreVaultFromFile,
    /// RestoreKeyFromFile: "400 Unmatched Content MD5").
    UnmatchedContentMd5,
    /// 412: `if-match` does not match the resource's `etag`.
    NoEtagMatch,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 429: throttled.
    TooManyRequests,
    /// 500: an internal error.
    InternalServerError,
    /// 501: the operation is not implemented (by this emulator).
    MethodNotImplemented,
    /// 503: the service is unavailable.
    ServiceUnavailable,
}

impl ErrorCode {
    /// The HTTP status OCI answers with for this code.
    pub const fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            CannotParseRequest
            | InvalidParameter
            | MissingParameter
            | LimitExceeded
            | RelatedResourceNotAuthorizedOrNotFound
            | UnmatchedContentMd5 => StatusCode::BAD_REQUEST,
            NotAuthenticated => StatusCode::UNAUTHORIZED,
            NotAuthorizedOrNotFound | NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Conflict | IncorrectState | NotAuthorizedOrResourceAlreadyExists => {
                StatusCode::CONFLICT
            }
            NoEtagMatch => StatusCode::PRECONDITION_FAILED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            MethodNotImplemented => StatusCode::NOT_IMPLEMENTED,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as it appears in the body's `code` field.
    pub const fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            CannotParseRequest => "CannotParseRequest",
            InvalidParameter => "InvalidParameter",
            MissingParameter => "MissingParameter",
            LimitExceeded => "LimitExceeded",
            RelatedResourceNotAuthorizedOrNotFound => "RelatedResourceNotAuthorizedOrNotFound",
            NotAuthenticated => "NotAuthenticated",
            NotAuthorizedOrNotFound => "NotAuthorizedOrNotFound",
            NotFound => "NotFound",
            MethodNotAllowed => "MethodNotAllowed",
            Conflict => "Conflict",
            IncorrectState => "IncorrectState",
            NotAuthorizedOrResourceAlreadyExists => "NotAuthorizedOrResourceAlreadyExists",
            UnmatchedContentMd5 => "UnmatchedContentMD5",
            NoEtagMatch => "NoEtagMatch",
            PayloadTooLarge => "PayloadTooLarge",
            TooManyRequests => "TooManyRequests",
            InternalServerError => "InternalServerError",
            MethodNotImplemented => "MethodNotImplemented",
            ServiceUnavailable => "ServiceUnavailable",
        }
    }
}

/// The message of a resource named in the body that is missing or not
/// visible (the same whether IAM or the store found it so).
pub use crate::iam::authz::related_not_found;
/// OCI's fixed message for a resource that is missing or not visible.
pub use crate::iam::authz::NOT_AUTHORIZED_OR_NOT_FOUND;
/// OCI's message for a failed authentication.
pub const NOT_AUTHENTICATED: &str =
    "The required information to complete authentication was not provided or was incorrect.";
/// The generic message of a 500; the cause goes to the log only.
pub const INTERNAL: &str = "Internal error occurred.";

/// An error on its way to the client: a code and a message safe to show.
///
/// The message must never contain secret content, key material or a
/// signature; internal causes are logged by [`ApiError::internal`] and
/// replaced by [`INTERNAL`].
#[derive(Debug)]
pub struct ApiError {
    /// The OCI code (and through it, the status).
    pub code: ErrorCode,
    /// The `message` field of the body.
    pub message: Cow<'static, str>,
}

impl ApiError {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// 400 `InvalidParameter`.
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidParameter, message)
    }

    /// 404 `NotAuthorizedOrNotFound` with OCI's fixed message.
    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotAuthorizedOrNotFound,
            NOT_AUTHORIZED_OR_NOT_FOUND,
        )
    }

    /// 401 `NotAuthenticated` with OCI's fixed message (the reason goes to
    /// the log only).
    pub fn not_authenticated() -> Self {
        Self::new(ErrorCode::NotAuthenticated, NOT_AUTHENTICATED)
    }

    /// 500 with a generic message; logs `cause` with a searchable id.
    pub fn internal(cause: &anyhow::Error) -> Self {
        let id = crate::ocid::random_base32(12);
        tracing::error!(error_id = %id, error = format!("{cause:#}"), "internal error");
        Self::new(
            ErrorCode::InternalServerError,
            format!("{INTERNAL} (error id {id})"),
        )
    }

    /// The JSON body `{"code","message"}`.
    pub fn body(&self) -> String {
        serde_json::json!({"code": self.code.as_str(), "message": self.message}).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(self.code.status(), self.code.as_str(), self.body())
    }
}

/// The `code` of an OCI error body, kept as a response extension by every
/// error response built here, so the request's record can name it without
/// reading the body back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyCode(pub String);

fn json_error(status: StatusCode, code: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.extensions_mut().insert(BodyCode(code.to_owned()));
    response
}

/// The response of an error a fault rule injects: any status and code the
/// rule names (418 and 403 included), in OCI's body shape. The one escape
/// hatch from the [`ErrorCode`] table; a status that is not an HTTP status
/// (the rules only allow 400–599) answers 500.
pub fn injected(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({"code": code, "message": message}).to_string();
    json_error(status, code, body)
}

impl From<domain::Error> for ApiError {
    fn from(error: domain::Error) -> Self {
        use domain::Error;
        match error {
            Error::NotFound => ApiError::not_found(),
            Error::InvalidParameter(m) => ApiError::new(ErrorCode::InvalidParameter, m),
            Error::MissingParameter(m) => ApiError::new(ErrorCode::MissingParameter, m),
            Error::IncorrectState(m) => ApiError::new(ErrorCode::IncorrectState, m),
            Error::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            Error::AlreadyExists(m) => {
                ApiError::new(ErrorCode::NotAuthorizedOrResourceAlreadyExists, m)
            }
            Error::LimitExceeded(m) => ApiError::new(ErrorCode::LimitExceeded, m),
            Error::RelatedNotFound(m) => {
                ApiError::new(ErrorCode::RelatedResourceNotAuthorizedOrNotFound, m)
            }
            Error::NoEtagMatch => ApiError::new(
                ErrorCode::NoEtagMatch,
                "The if-match value does not match the resource's current etag.",
            ),
            Error::InvalidCiphertext => ApiError::new(
                ErrorCode::InvalidParameter,
                "The ciphertext is invalid, was not produced by this key, or the associated data does not match.",
            ),
            Error::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

impl From<crate::crypto::Error> for ApiError {
    fn from(error: crate::crypto::Error) -> Self {
        domain::Error::from(error).into()
    }
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        let code = match denial.role {
            Role::Own => ErrorCode::NotAuthorizedOrNotFound,
            Role::Create => ErrorCode::NotAuthorizedOrResourceAlreadyExists,
            Role::Related => ErrorCode::RelatedResourceNotAuthorizedOrNotFound,
        };
        ApiError::new(code, denial.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Error;

    fn wire(e: Error) -> (u16, String, String) {
        let api = ApiError::from(e);
        let body: serde_json::Value = serde_json::from_str(&api.body()).unwrap();
        (
            api.code.status().as_u16(),
            body["code"].as_str().unwrap().to_owned(),
            body["message"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn every_domain_error_has_its_oci_status_and_code() {
        let cases = vec![
            (Error::NotFound, 404, "NotAuthorizedOrNotFound"),
            (Error::InvalidParameter("x".into()), 400, "InvalidParameter"),
            (Error::MissingParameter("x".into()), 400, "MissingParameter"),
            (Error::IncorrectState("x".into()), 409, "IncorrectState"),
            (Error::Conflict("x".into()), 409, "Conflict"),
            (Error::LimitExceeded("x".into()), 400, "LimitExceeded"),
            (
                Error::AlreadyExists("x".into()),
                409,
                "NotAuthorizedOrResourceAlreadyExists",
            ),
            (
                Error::RelatedNotFound("x".into()),
                400,
                "RelatedResourceNotAuthorizedOrNotFound",
            ),
            (Error::NoEtagMatch, 412, "NoEtagMatch"),
            (Error::InvalidCiphertext, 400, "InvalidParameter"),
            (
                Error::Internal(anyhow::anyhow!("boom")),
                500,
                "InternalServerError",
            ),
        ];
        for (error, status, code) in cases {
            let (s, c, _) = wire(error);
            assert_eq!((s, c.as_str()), (status, code));
        }
    }

    #[test]
    fn a_500_body_never_carries_its_cause() {
        let (_, _, message) = wire(Error::Internal(anyhow::anyhow!("sqlite said SECRETVALUE")));
        assert!(!message.contains("SECRETVALUE"), "{message}");
        assert!(message.starts_with(INTERNAL));
    }

    #[test]
    fn denials_keep_the_status_and_code_iam_names() {
        for role in [Role::Own, Role::Create, Role::Related] {
            let denial = Denial {
                role,
                message: "m".into(),
            };
            let (status, code) = denial.status_and_code();
            let api = ApiError::from(denial);
            assert_eq!(
                (api.code.status().as_u16(), api.code.as_str()),
                (status, code)
            );
        }
    }

    #[test]
    fn not_found_uses_ocis_fixed_message() {
        let (_, _, message) = wire(Error::NotFound);
        assert_eq!(message, NOT_AUTHORIZED_OR_NOT_FOUND);
    }
}
