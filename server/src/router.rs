//! Every route in one list.

use app::{Page, shell};
use axum::{
    Router,
    extract::State,
    http::{Method, StatusCode},
    response::Redirect,
    routing::{MethodRouter, delete, get, patch, post, put},
};
use leptos::prelude::provide_context;
use tower_http::trace::TraceLayer;

use crate::{access, export, ingest, log, login, openapi, read, settings, state::AppState, webhooks};

/// The plain HTTP routes, one entry per method and path. The router is built from this list, and so is
/// `inventory`, which the access test walks.
pub fn http_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/", get(|| async { Redirect::to("/admin") })),
        (Method::GET, "/healthz", get(health)),
        (Method::POST, "/login", post(login::login)),
        (Method::POST, "/logout", post(login::logout)),
        (Method::POST, "/api/v1/events", post(ingest::ingest)),
        (Method::GET, "/api/v1/events", get(read::list)),
        (Method::GET, "/api/v1/events/export", get(export::export)),
        (Method::GET, "/api/v1/events/{id}", get(read::get_one)),
        (Method::GET, "/api/v1/events/{id}/proof", get(log::proof)),
        (Method::GET, "/api/v1/log/key", get(log::key)),
        (Method::GET, "/api/v1/log/checkpoint", get(log::checkpoint)),
        (Method::GET, "/api/v1/log/consistency", get(log::consistency)),
        (Method::GET, "/api/v1/settings/retention", get(settings::retention)),
        (Method::PUT, "/api/v1/settings/retention", put(settings::set_retention)),
        (Method::GET, "/api/v1/facets", get(read::facets)),
        (Method::GET, "/api/v1/webhooks", get(webhooks::list)),
        (Method::POST, "/api/v1/webhooks", post(webhooks::create)),
        (Method::GET, "/api/v1/webhooks/{id}", get(webhooks::get_one)),
        (Method::PATCH, "/api/v1/webhooks/{id}", patch(webhooks::update)),
        (Method::DELETE, "/api/v1/webhooks/{id}", delete(webhooks::delete)),
        (
            Method::POST,
            "/api/v1/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        ),
        (Method::POST, "/api/v1/webhooks/{id}/replay", post(webhooks::replay)),
        (Method::POST, "/api/v1/webhooks/{id}/test", post(webhooks::send_test)),
        (Method::GET, "/api/v1/openapi.json", get(openapi::document)),
        (Method::GET, "/metrics", get(read::metrics)),
    ]
}

/// Every route the server answers: the plain routes, the pages of the app, and the server functions.
pub fn inventory() -> Vec<(Method, String)> {
    let mut all: Vec<(Method, String)> = http_routes().into_iter().map(|(m, p, _)| (m, p.to_string())).collect();
    all.extend(Page::PATHS.iter().map(|(path, _)| (Method::GET, path.to_string())));
    all.extend(leptos::server_fn::axum::server_fn_paths().map(|(p, m)| (m, p.to_string())));
    all
}

pub fn router(state: AppState) -> Router {
    // Measurements recorded before the first scrape count too.
    crate::telemetry::metrics();
    // The pages' reactive tasks run on tokio (an error only says it was set already).
    let _ = any_spawner::Executor::init_tokio();
    let store = state.store.clone();
    let webhooks = app::api::Webhooks(std::sync::Arc::new(state.webhooks.clone()));
    let options = state.leptos_options.clone();
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, handler) in http_routes() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    // What every page and server function (and the page of a path that is not one) is rendered with.
    let context = move || {
        provide_context(store.clone());
        provide_context(webhooks.clone());
        crate::base::provide_for_request();
    };
    // Each page rendered whole, its data loaded, before the first byte is sent.
    let page = leptos_axum::render_app_async_with_context(context.clone(), move || shell(options.clone()));
    for (path, _) in Page::PATHS {
        router = router.route(path, get(page.clone()));
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let context = context.clone();
        let call = move |req| leptos_axum::handle_server_fns_with_context(context, req);
        router = router.route(path, MethodRouter::new().on(method_filter(&method), call));
    }
    let router = router
        .route_layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(axum::middleware::from_fn(access::bad_arguments_are_400))
        .layer(axum::middleware::from_fn(access::limit_bodies))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::enforce))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::security_headers,
        ))
        .layer(TraceLayer::new_for_http());
    let base = state.security.base_path.clone();
    let router = router.with_state(state);
    match base.0.is_empty() {
        true => router,
        // Nested, the router sees each request without the prefix; outside it nothing answers (404).
        false => Router::new()
            .nest(&base.0.clone(), router)
            .layer(axum::middleware::from_fn_with_state(base, crate::base::under_base)),
    }
}

/// The axum filter of a server function's method.
fn method_filter(method: &Method) -> axum::routing::MethodFilter {
    axum::routing::MethodFilter::try_from(method.clone()).expect("server functions use standard methods")
}

/// `200 ok` when the database answers.
async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
