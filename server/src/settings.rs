//! `GET` and `PUT /api/v1/settings/retention`: how long events are kept (scope `admin`).

use app::store::{Scope, check_retention};
use axum::{Json, extract::State, response::IntoResponse};
use serde_json::Value;

use crate::{auth::Caller, error::ApiError, state::AppState};

/// How long events are kept.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Retention {
    /// Days, 1 to 36,500; `null`: forever. Required (`null` too must be said).
    #[schema(minimum = 1, maximum = 36_500, required = true)]
    pub days: Option<u32>,
}

/// `GET /api/v1/settings/retention`: `{"days": 180}`, or `{"days": null}` when events are kept forever.
#[utoipa::path(
    get,
    path = "/api/v1/settings/retention",
    tag = "settings",
    responses(
        (status = 200, description = "How long events are kept", body = Retention),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn retention(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(Retention {
        days: state.store.retention_days().await?,
    }))
}

/// `PUT /api/v1/settings/retention` with `{"days": 180}` (1 to 36,500) or `{"days": null}` (forever). The
/// change is recorded as `settings.update`; the purge runs within moments.
#[utoipa::path(
    put,
    path = "/api/v1/settings/retention",
    tag = "settings",
    request_body = Retention,
    responses(
        (status = 200, description = "The retention now in force", body = Retention),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn set_retention(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    let bad = |message: &str| ApiError::bad_request("invalid_setting", "days", format!("days: {message}"));
    let value: Value = serde_json::from_slice(&body).map_err(|_| bad("the body must be JSON: {\"days\": 180}"))?;
    let days = match value.get("days") {
        Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| bad("must be a whole number"))?),
        Some(_) => return Err(bad("must be a whole number of days, or null")),
        None => return Err(bad("is required (null keeps events forever)")),
    };
    let days = check_retention(days)?;
    state
        .store
        .set_retention_days(days, principal.actor(), principal.recorder(), |e| e)
        .await?;
    Ok(Json(Retention { days }))
}
