//! The auditlog server: HTTP API, the server-rendered panel, and the command line.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod import;
pub mod ingest;
pub mod read;
pub mod router;
pub mod state;
pub mod telemetry;

use app::store::AuditStore;
use tokio::net::TcpListener;

pub use state::AppState;

/// The state of a server over the database at `database_url`.
pub async fn build_state(database_url: &str) -> Result<AppState, app::store::StoreError> {
    let store = AuditStore::open(database_url).await?;
    Ok(AppState {
        leptos_options: state::leptos_options(),
        store,
    })
}

/// Serves until the process ends (or, with graceful shutdown, until ctrl-c).
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
