//! The auditlog server: HTTP API, the server-rendered panel, and the command line.
#![forbid(unsafe_code)]

pub mod access;
pub mod archive;
pub mod auth;
pub mod base;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod host_sign_in;
pub mod import;
pub mod ingest;
pub mod jwt;
pub mod log;
pub mod login;
pub mod openapi;
pub mod read;
pub mod router;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod viewers;
pub mod webhooks;

use std::{net::SocketAddr, sync::Arc};

use app::store::AuditStore;
use tokio::net::TcpListener;

pub use state::AppState;

use crate::{
    config::{DatabaseArgs, SecurityArgs},
    state::Security,
};

/// The state of a server over the database `db` names.
pub async fn build_state(db: &DatabaseArgs, security: &SecurityArgs) -> Result<AppState, app::store::StoreError> {
    let store = db.open().await?;
    let security = Security::new(security)
        .map_err(|e| app::store::StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let destinations = webhooks::Destinations {
        allow_private: security.webhook_allow_private,
    };
    Ok(AppState {
        leptos_options: state::leptos_options(),
        viewers: Arc::new(viewers::PanelSessions(store.clone())),
        store,
        security: Arc::new(security),
        webhooks: webhooks::Sender::new(destinations, webhooks::ATTEMPT_TIMEOUT),
    })
}

/// How often the retention purge runs (besides at start and after each change of the retention).
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3_600);

/// Serves until ctrl-c. The peer address of each connection is kept (brute-force protection counts by IP).
/// The free-text indexer, the retention purge and the webhook deliverers run beside it.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    tokio::spawn(run_indexer(state.store.clone()));
    tokio::spawn(webhooks::deliver::run(
        state.store.clone(),
        state.webhooks.clone(),
        webhooks::DeliveryConfig::default(),
    ));
    tokio::spawn(state.store.clone().run_retention(PURGE_EVERY));
    let app = router::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Keeps the free-text index caught up with the events, in small batches, and steps aside while inserts are
/// waiting: ingestion holds the single writer first, and search reads the rows not yet indexed directly. A
/// large backlog (after an upgrade that rebuilds the index, or events written by another process) is logged
/// at start and as it shrinks, since searches are slower until it is gone.
pub async fn run_indexer(store: AuditStore) {
    use std::time::{Duration, Instant};
    let mut backlog = store.index_backlog().await.unwrap_or(0);
    if backlog > 10_000 {
        tracing::warn!(
            events = backlog,
            "the search index is behind; searches read these events directly (slower) until it catches up"
        );
    }
    let mut reported = Instant::now();
    loop {
        if backlog > 10_000 && reported.elapsed() > Duration::from_secs(10) {
            backlog = store.index_backlog().await.unwrap_or(0);
            tracing::info!(events = backlog, "the search index is catching up");
            reported = Instant::now();
            if backlog <= 10_000 {
                tracing::info!("the search index has caught up");
            }
        }
        if store.writes_pending() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        match store.index_pending(1_000).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(250)).await,
            Ok(_) => tokio::time::sleep(Duration::from_millis(2)).await,
            Err(e) => {
                tracing::error!(error = %e, "free-text indexing failed; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Ctrl-C, or SIGTERM (what a service manager sends to stop a service).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
