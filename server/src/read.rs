//! The read side of the API: list, one event, facets.

use app::{model::AuditQuery, store::Scope};
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    response::IntoResponse,
};

use crate::{auth::Caller, error::ApiError, state::AppState};

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    let query = AuditQuery::from_query_string(raw.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.list(&query).await?))
}

pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    match state.store.get(&id.to_ascii_uppercase()).await {
        Err(app::store::StoreError::NotFound) => Err(ApiError::not_found(format!("no event with id {id}"))),
        other => Ok(Json(other?)),
    }
}

pub async fn facets(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(state.store.facets().await?))
}
