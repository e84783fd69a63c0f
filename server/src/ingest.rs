//! `POST /api/v1/events`: one event or `{"events": [...]}` (at most 1,000), all or nothing, idempotent by id.

use app::{
    model::{
        NewEvent,
        recorded::OWN_SOURCE,
        wire::{Events, read_body},
    },
    store::Scope,
};
use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::Value;

use crate::{auth::Caller, error::ApiError, state::AppState};

pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_BATCH: usize = 1_000;

#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "events",
    request_body(content = crate::openapi::IngestBody, description = "One event, or `{\"events\": [...]}` with 1 to 1,000"),
    responses(
        (status = 201, description = "Stored (or already stored: `duplicates`), all of them", body = app::store::InsertOutcome),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::TooLarge,
        crate::openapi::Unavailable
    )
)]
pub async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Body,
) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Ingest)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over 5 MiB",
        )
    })?;
    // Typed reading first (no JSON tree per event); anything it does not take is read again by `parse_body`,
    // whose error names the field.
    let events = match read_body(&bytes, MAX_BATCH) {
        Some(events) => events,
        None => {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::bad_request("invalid_json", "body", format!("the body is not valid JSON: {e}"))
            })?;
            parse_body(value)?
        }
    };
    let by = principal.recorder();
    let bound = principal.tenant();
    let outcome = match events {
        Events::One(mut event) => {
            refuse_own_source(&event, "source")?;
            into_tenant(&mut event, bound, "tenant")?;
            state.store.record_by(*event, by).await?
        }
        Events::Batch(mut events) => {
            for (i, event) in events.iter_mut().enumerate() {
                refuse_own_source(event, &format!("events[{i}].source"))?;
                into_tenant(event, bound, &format!("events[{i}].tenant"))?;
            }
            state.store.record_batch_by(events, by).await?
        }
    };
    metrics::counter!("events_ingested_total").increment(outcome.accepted);
    metrics::histogram!("ingest_batch_events").record(outcome.ids.len() as f64);
    Ok((StatusCode::CREATED, Json(outcome)))
}

/// One event, or a batch under `events`. Errors name the field, with the index inside a batch.
/// The source `auditlog` is the product's own: nothing else may send events under it.
fn refuse_own_source(event: &NewEvent, field: &str) -> Result<(), ApiError> {
    if event.source.as_deref().map(str::trim) == Some(OWN_SOURCE) {
        return Err(ApiError::bad_request(
            "invalid_event",
            field,
            format!("{field}: `{OWN_SOURCE}` is reserved for the audit log's own events"),
        ));
    }
    Ok(())
}

/// A caller bound to a tenant ingests into it: an event without a tenant gets it, one naming another is
/// refused (403, nothing of the request stored).
fn into_tenant(event: &mut NewEvent, bound: Option<&str>, field: &str) -> Result<(), ApiError> {
    let Some(bound) = bound else { return Ok(()) };
    match event.tenant.as_deref().map(str::trim) {
        None | Some("") => event.tenant = Some(bound.to_string()),
        Some(t) if t == bound => {}
        Some(_) => {
            return Err(ApiError::forbidden(format!(
                "{field}: this token ingests into tenant `{bound}` only"
            )));
        }
    }
    Ok(())
}

pub fn parse_body(mut value: Value) -> Result<Events, ApiError> {
    let batch = value.as_object_mut().and_then(|o| o.remove("events"));
    match batch {
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_event",
                    "events",
                    "events: must hold at least one event",
                ));
            }
            if items.len() > MAX_BATCH {
                return Err(ApiError::bad_request(
                    "invalid_event",
                    "events",
                    format!("events: at most {MAX_BATCH} events per request ({} sent)", items.len()),
                ));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| NewEvent::from_json(item).map_err(|e| e.under(&format!("events[{i}]")).into()))
                .collect::<Result<_, ApiError>>()
                .map(Events::Batch)
        }
        Some(_) => Err(ApiError::bad_request(
            "invalid_event",
            "events",
            "events: must be an array",
        )),
        None => Ok(Events::One(Box::new(NewEvent::from_json(value)?))),
    }
}
