//! What a fault rule can match a request on, found with as little work as
//! possible.
//!
//! The resource id comes from the path (`secretId`, then `keyId`, then
//! `vaultId`) or, for crypto calls, the body's `keyId`. The compartment comes
//! from the query's or body's `compartmentId`, else from the resource
//! itself (one store read) — and only when some rule or limit matches on a
//! compartment. This is the one place to swap in the IAM issue's target
//! resolver once it lands: it resolves the same things, after
//! authentication.

use serde::Deserialize;

use super::Target;
use crate::app::AppState;
use crate::domain::{keys, secrets, vaults};
use crate::iam::tenancy::Principal;
use crate::operation::{Operation, PathParams, Service};

/// The ids a body may name. Nothing else of the body is read (or kept), so
/// plaintext and secret content are never touched here.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BodyIds {
    #[serde(default)]
    compartment_id: Option<String>,
    #[serde(default)]
    key_id: Option<String>,
}

/// The target of an authenticated request (see the module doc).
pub async fn resolve<'a>(
    app: &AppState,
    operation: Operation,
    params: &PathParams,
    query: Option<&str>,
    body: &[u8],
    principal: &'a Principal,
) -> Target<'a> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    let need_compartment = app.faults.needs_compartment();
    let in_body = operation.service() == Service::KmsCrypto || need_compartment;
    let body_ids = if in_body && !body.is_empty() {
        serde_json::from_slice::<BodyIds>(body).unwrap_or_default()
    } else {
        BodyIds::default()
    };
    let resource_id = param("secretId")
        .or_else(|| param("keyId"))
        .or_else(|| param("vaultId"))
        .or_else(|| {
            (operation.service() == Service::KmsCrypto)
                .then(|| body_ids.key_id.clone())
                .flatten()
        });
    let mut compartment_id = None;
    if need_compartment {
        let from_query = query.and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "compartmentId")
                .map(|(_, v)| v)
        });
        compartment_id = match from_query.or(body_ids.compartment_id) {
            Some(c) => Some(c),
            None => match &resource_id {
                Some(id) => compartment_of(app, id).await,
                None => None,
            },
        };
    }
    Target {
        operation,
        principal: Some(principal),
        compartment_id,
        resource_id,
    }
}

/// The compartment of a vault, key or secret; `None` when it does not exist
/// (the handler then answers 404 as usual).
async fn compartment_of(app: &AppState, id: &str) -> Option<String> {
    let now = app.clock.now();
    let id = id.to_owned();
    app.store
        .read(move |tx| {
            Ok(if id.starts_with("ocid1.vaultsecret.") {
                secrets::get(tx, &id, now).ok().map(|s| s.compartment_id)
            } else if id.starts_with("ocid1.key.") {
                keys::get_any(tx, &id, now)?.map(|k| k.compartment_id)
            } else if id.starts_with("ocid1.vault.") {
                vaults::get(tx, &id, now).ok().map(|v| v.compartment_id)
            } else {
                None
            })
        })
        .await
        .ok()
        .flatten()
}
