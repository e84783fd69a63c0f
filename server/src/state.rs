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
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some();
    if built_by_cargo_leptos || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        if let Ok(conf) = leptos::config::get_configuration(None) {
            return conf.leptos_options;
        }
    }
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder()
        .output_name("auditlog")
        .site_root(site_root)
        .build()
}
