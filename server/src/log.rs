//! The log's public face (docs/trust.md): its verifier key, the latest signed checkpoint, an event's audit
//! path and consistency proofs, for anyone who checks the log with standard tools. Scope `read`, or a
//! signed-in admin.

use app::{model::query::decode_pairs, store::Scope};
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::header,
    response::IntoResponse,
};

use crate::{auth::Caller, error::ApiError, state::AppState};

/// The optional number `name` of a query string; a value that is not one is a 400 naming it.
fn number(raw: Option<&str>, name: &str) -> Result<Option<u64>, ApiError> {
    let pairs = decode_pairs(raw.unwrap_or(""));
    match pairs.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request("invalid_parameter", name, format!("{name}: must be a whole number"))),
    }
}

fn text(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}

/// `GET /api/v1/log/key`: the verifier key, `<origin>+<key id>+<base64 key>`.
#[utoipa::path(
    get,
    path = "/api/v1/log/key",
    tag = "log",
    responses(
        (status = 200, description = "The verifier key", content_type = "text/plain; charset=utf-8", body = String),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden
    )
)]
pub async fn key(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    Ok(text(format!("{}\n", state.store.verifier_key())))
}

/// `GET /api/v1/log/checkpoint`: the latest signed checkpoint, a C2SP signed note.
#[utoipa::path(
    get,
    path = "/api/v1/log/checkpoint",
    tag = "log",
    responses(
        (status = 200, description = "The latest checkpoint, a signed note", content_type = "text/plain; charset=utf-8", body = String),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn checkpoint(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    match state.store.latest_checkpoint().await? {
        Some((_, note)) => Ok(text(note)),
        None => Err(ApiError::not_found("no checkpoint yet: the log is empty")),
    }
}

/// `GET /api/v1/events/{id}/proof?tree_size=N`: the event's audit path.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/proof",
    tag = "log",
    params(
        ("id" = String, Path, description = "The event's id (a ULID)", pattern = "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$"),
        ("tree_size" = Option<u64>, Query, description = "The tree the proof is for; the latest checkpoint's when absent"),
    ),
    responses(
        (status = 200, description = "The event's audit path", body = app::store::InclusionProof),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn proof(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Read)?;
    let size = number(raw.as_deref(), "tree_size")?;
    let id = id.to_ascii_uppercase();
    // Another tenant's event is as unknown as one that does not exist.
    if principal.tenant().is_some() {
        match state.store.get_within(&id, principal.tenant()).await {
            Err(app::store::StoreError::NotFound) => {
                return Err(ApiError::not_found(format!("no event with id {id}")));
            }
            other => drop(other?),
        }
    }
    match state.store.inclusion_proof(&id, size).await {
        Err(app::store::StoreError::NotFound) => Err(ApiError::not_found(format!(
            "event {id} is not in the tree{}",
            size.map_or(" of the latest checkpoint".into(), |n| format!(" of {n} events"))
        ))),
        other => Ok(Json(other?)),
    }
}

/// `GET /api/v1/log/consistency?from=M&to=N`: the consistency proof between two tree sizes.
#[utoipa::path(
    get,
    path = "/api/v1/log/consistency",
    tag = "log",
    params(
        ("from" = u64, Query, description = "The smaller tree size"),
        ("to" = Option<u64>, Query, description = "The larger tree size; the latest checkpoint's when absent"),
    ),
    responses(
        (status = 200, description = "The consistency proof", body = app::store::ConsistencyProof),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn consistency(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    let from = number(raw.as_deref(), "from")?
        .ok_or_else(|| ApiError::bad_request("invalid_parameter", "from", "from: is required"))?;
    let to = number(raw.as_deref(), "to")?;
    match state.store.consistency_proof(from, to).await {
        Err(app::store::StoreError::NotFound) => Err(ApiError::not_found("no checkpoint yet: the log is empty")),
        other => Ok(Json(other?)),
    }
}
