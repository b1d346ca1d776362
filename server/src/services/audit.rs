//! The Audit API (`AuditClient`, regional `audit` host, `/20190901`):
//! `ListEvents`, `GetConfiguration`, `UpdateConfiguration`. Models:
//! <https://docs.oracle.com/en-us/iaas/api/#/en/audit/20190901/>.
//!
//! The events are the emulator's own trail (`crate::audit`): one per OCI
//! request, stored as the `AuditEvent` documents this API sends. Readers
//! flush the trail's writer first, so a request answered before the call
//! is in the answer.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{common, Ctx, Reply};
use crate::domain::audit;
use crate::error::ApiError;
use crate::state::AppState;

/// Events per `ListEvents` page (OCI does not document its page size).
pub const PAGE_SIZE: usize = 100;

/// `Configuration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    retention_period_days: u32,
}

/// `UpdateConfigurationDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConfigurationDetails {
    #[serde(deserialize_with = "common::int")]
    retention_period_days: i64,
}

/// A required time query parameter at minute granularity (OCI: "seconds
/// (and milliseconds, if included) must be set to 0"); else 400
/// `InvalidParameter`.
fn minute_time(ctx: &Ctx<'_>, name: &'static str) -> Result<OffsetDateTime, ApiError> {
    let text = ctx.required_query(name)?;
    let t = common::parse_time(name, Some(&text))?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if t.second() != 0 || t.nanosecond() != 0 {
        return Err(ApiError::invalid(format!(
            "{name} must be at minute granularity: seconds and fractions must be 0."
        )));
    }
    Ok(t)
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// `ListEvents`: `GET /20190901/auditEvents?compartmentId&startTime&endTime[&page]`.
/// The events of the compartment (not its children) processed at or after
/// `startTime` and before `endTime`, oldest first, [`PAGE_SIZE`] a page with
/// `opc-next-page`; events older than the retention period are not listed.
pub async fn list_events(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    let start = minute_time(ctx, "startTime")?;
    let end = minute_time(ctx, "endTime")?;
    if end <= start {
        return Err(ApiError::invalid("endTime must be later than startTime."));
    }
    ctx.known_compartment(app, &compartment)?;
    let after = match ctx.query("page")? {
        None => 0,
        Some(p) => p
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid("page is not a page token this API returned."))?,
    };
    app.audit.flush().await;
    let now = micros(ctx.now);
    let window = (micros(start), micros(end));
    let mut rows = app
        .audit
        .store()
        .read(move |tx| {
            let oldest = now.saturating_sub(i64::from(audit::retention_days(tx)?) * 86_400_000_000);
            audit::page(
                tx,
                &compartment,
                (window.0.max(oldest), window.1),
                after,
                PAGE_SIZE + 1,
            )
        })
        .await?;
    let next = (rows.len() > PAGE_SIZE).then(|| rows[PAGE_SIZE - 1].0.to_string());
    rows.truncate(PAGE_SIZE);
    let mut body = Vec::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, (_, doc)) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(doc.as_bytes());
    }
    body.push(b']');
    Ok(Reply::raw_json(body).next_page(next))
}

/// The `compartmentId` of the configuration calls: the tenancy (root
/// compartment) only; an unknown one is 404, a child compartment 400.
fn tenancy_compartment(app: &AppState, ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let compartment = ctx.required_query("compartmentId")?;
    ctx.known_compartment(app, &compartment)?;
    if compartment != app.tenancy.id() {
        return Err(ApiError::invalid(
            "compartmentId must be the tenancy's OCID (the root compartment).",
        ));
    }
    Ok(())
}

/// `GetConfiguration`: `GET /20190901/configuration?compartmentId` →
/// `Configuration` (`retentionPeriodDays`, 365 until changed).
pub async fn get_configuration(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    tenancy_compartment(app, ctx)?;
    let days = app.audit.store().read(audit::retention_days).await?;
    Reply::json(&Configuration {
        retention_period_days: days,
    })
}

/// `UpdateConfiguration`: `PUT /20190901/configuration?compartmentId` with
/// `UpdateConfigurationDetails`; 90 to 365 days (else 400
/// `InvalidParameter`, nothing changed). Answers 202 with
/// `opc-work-request-id` and no body, as OCI; applied at once.
pub async fn update_configuration(app: &AppState, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    tenancy_compartment(app, ctx)?;
    let details: UpdateConfigurationDetails = ctx.json()?;
    app.audit.flush().await;
    let now = micros(ctx.now);
    app.audit
        .store()
        .write(move |tx| audit::set_retention_days(tx, details.retention_period_days, now))
        .await?;
    let work_request = crate::domain::new_work_request_id(ctx.region_name(app));
    Ok(Reply::empty().accepted().work_request(&work_request))
}
