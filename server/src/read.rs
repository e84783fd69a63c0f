//! The read side of the API: list, one event, facets.

use app::{model::AuditQuery, store::Scope};
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::HeaderMap,
    response::IntoResponse,
};

use crate::{auth::authorize, error::ApiError, state::AppState};

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers, Scope::Read).await?;
    let query = AuditQuery::from_query_string(raw.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.list(&query).await?))
}

pub async fn get_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers, Scope::Read).await?;
    match state.store.get(&id.to_ascii_uppercase()).await {
        Err(app::store::StoreError::NotFound) => {
            Err(ApiError::not_found(format!("no event with id {id}")))
        }
        other => Ok(Json(other?)),
    }
}

pub async fn facets(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers, Scope::Read).await?;
    Ok(Json(state.store.facets().await?))
}
