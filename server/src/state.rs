//! What every handler shares, wired in one place.

use app::store::AuditStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: AuditStore,
}

/// Site settings: what cargo-leptos built in (or `LEPTOS_*` variables), with the output name defaulted so a
/// binary built by plain cargo (tests) still points at `/pkg/auditlog.js`.
pub fn leptos_options() -> LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| LeptosOptions::builder().output_name("auditlog").build());
    if options.output_name.is_empty() {
        options.output_name = "auditlog".into();
    }
    options
}
