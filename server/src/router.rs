//! Every route in one list.

use app::{App, shell};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Redirect,
    routing::{get, post},
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

use crate::{export, ingest, read, state::AppState};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let store = state.store.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin") }))
        .route("/healthz", get(health))
        .route("/api/v1/events", post(ingest::ingest).get(read::list))
        .route("/api/v1/events/export", get(export::export))
        .route("/api/v1/events/{id}", get(read::get_one))
        .route("/api/v1/facets", get(read::facets))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(store.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `200 ok` when the database answers.
async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
