//! What every handler shares, wired in one place.

use std::{net::IpAddr, sync::Arc};

use app::store::{AuditStore, BruteForcePolicy};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::SecurityArgs;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: AuditStore,
    pub security: Arc<Security>,
    /// Sends webhook deliveries (and test events) under the destination policy.
    pub webhooks: crate::webhooks::Sender,
    /// Who is looking (`crate::viewers`): the demo panel's sessions, or a host's own sign-in.
    pub viewers: crate::viewers::SharedViewers,
}

/// Access-control settings, fixed at start.
#[derive(Debug, Clone)]
pub struct Security {
    pub trusted_proxies: Vec<IpAddr>,
    pub frame_ancestors: String,
    pub brute_force: BruteForcePolicy,
    /// `/metrics` needs no credentials.
    pub metrics_public: bool,
    /// Webhooks may go to `http://` and internal addresses.
    pub webhook_allow_private: bool,
    /// The host panel's JWT sign-in, when configured.
    pub host_tokens: Option<Arc<crate::jwt::HostTokens>>,
    /// Everything is served under this prefix (`crate::base`); empty for none.
    pub base_path: crate::base::BasePath,
}

impl Security {
    /// The settings of `a`; an error names a JWT setting that cannot be used (a short secret, a JWKS file that
    /// cannot be read or holds a key that is not a signing key).
    pub fn new(a: &SecurityArgs) -> Result<Self, String> {
        let jwks = a
            .jwt_jwks_file
            .as_ref()
            .map(|f| std::fs::read_to_string(f).map_err(|e| format!("AUDITLOG_JWT_JWKS_FILE {}: {e}", f.display())))
            .transpose()?;
        let host_tokens = crate::jwt::HostTokens::new(
            a.jwt_secret.as_ref().map(|s| s.0.as_str()),
            jwks.as_deref(),
            a.jwt_audience.clone(),
        )?
        .map(Arc::new);
        Ok(Security {
            base_path: crate::base::BasePath(crate::base::parse(&a.base_path)?),
            host_tokens,
            trusted_proxies: a.trusted_proxies.clone(),
            frame_ancestors: a.frame_ancestors.join(" "),
            metrics_public: a.metrics_public,
            webhook_allow_private: a.webhook_allow_private,
            brute_force: BruteForcePolicy {
                max_failures: a.login_max_failures.max(1),
                window_ms: a.login_window_minutes.max(1) * 60_000,
                block_ms: a.login_block_minutes.max(1) * 60_000,
            },
        })
    }
}

/// Site settings: what cargo-leptos built in (or `LEPTOS_*` variables), with the output name defaulted so a
/// binary built by plain cargo (tests) still points at `/pkg/auditlog.js`.
pub fn leptos_options() -> LeptosOptions {
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some();
    if (built_by_cargo_leptos || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some())
        && let Ok(conf) = leptos::config::get_configuration(None)
    {
        return conf.leptos_options;
    }
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder()
        .output_name("auditlog")
        .site_root(site_root)
        .build()
}
