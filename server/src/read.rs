//! The read side of the API: list, one event, facets.

use app::{
    model::{AuditQuery, query::decode_pairs},
    store::Scope,
};
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
};

use crate::{auth::Caller, error::ApiError, state::AppState};

/// `GET /api/v1/events`: a page of rows as the table shows them, or with `fields=full` whole events (details,
/// user agent, whole IP), as scripts that read the log need.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    params(
        crate::openapi::Filters,
        ("fields" = Option<String>, Query, description = "`row` (the default): the table's columns, the IP masked; `full`: whole events"),
    ),
    responses(
        (status = 200, description = "A page of events, newest first unless sorted otherwise", body = app::model::EventPage),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = caller.require(Scope::Read)?;
    let raw = raw.as_deref().unwrap_or("");
    let query = AuditQuery::from_query_string(raw)?.within(principal.tenant());
    let full = match decode_pairs(raw)
        .iter()
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str())
    {
        None | Some("") | Some("row") => false,
        Some("full") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_filter",
                "fields",
                "fields: must be `row` or `full`",
            ));
        }
    };
    let started = std::time::Instant::now();
    let page = state.store.list(&query).await?;
    metrics::histogram!("query_duration_seconds").record(started.elapsed().as_secs_f64());
    if !full {
        return Ok(Json(page).into_response());
    }
    let ids: Vec<String> = page.entries.iter().map(|r| r.id.clone()).collect();
    let entries = state.store.get_many(&ids).await?;
    let mut body = serde_json::to_value(&page).map_err(|e| ApiError::from(app::store::StoreError::Io(e.into())))?;
    body["entries"] =
        serde_json::to_value(entries).map_err(|e| ApiError::from(app::store::StoreError::Io(e.into())))?;
    Ok(Json(body).into_response())
}

/// `GET /api/v1/events/{id}`: one whole event.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(("id" = String, Path, description = "The event's id (a ULID)", pattern = "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$")),
    responses(
        (status = 200, description = "The event, whole", body = app::model::Event),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Read)?;
    match state
        .store
        .get_within(&id.to_ascii_uppercase(), principal.tenant())
        .await
    {
        Err(app::store::StoreError::NotFound) => Err(ApiError::not_found(format!("no event with id {id}"))),
        other => Ok(Json(other?)),
    }
}

/// `GET /api/v1/facets`: what the filter menus offer.
#[utoipa::path(
    get,
    path = "/api/v1/facets",
    tag = "events",
    responses(
        (status = 200, description = "Actions by category, target types, sources and actors present in the log", body = app::model::Facets),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn facets(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Read)?;
    Ok(Json(state.store.facets(principal.tenant()).await?))
}

/// `GET /metrics`: Prometheus text. Needs a `read` token or an admin session, unless the server was started with
/// `--metrics-public`.
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    // The whole log's figures: not for a caller bound to one tenant.
    if !state.security.metrics_public && caller.require(Scope::Read)?.tenant().is_some() {
        return Err(ApiError::forbidden("metrics are for callers of the whole log"));
    }
    let (database, wal) = state.store.file_sizes();
    metrics::gauge!("database_size_bytes").set(database as f64);
    metrics::gauge!("wal_size_bytes").set(wal as f64);
    // Searches read the events the index has not reached directly: slower while this is large.
    metrics::gauge!("search_index_backlog_events").set(state.store.index_backlog().await? as f64);
    let text = crate::telemetry::metrics().render();
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
