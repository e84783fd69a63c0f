//! auditlog: the audit log tab (`audit_log`), the demo admin panel that hosts it (`panel`), the shared wire
//! types (`model`), server functions (`api`) and, on the server, the SQLite store (`store`).
#![forbid(unsafe_code)]

pub mod api;
pub mod audit_log;
pub mod model;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod trust;

use leptos::prelude::*;
use leptos_router::{
    Lazy, SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// Where the app is served below its origin: `""` at the root, or a prefix such as `/admin/audit` for a host
/// whose reverse proxy passes one path to it (`--base-path`). The server provides it to each request; the
/// page carries it (`<meta name="auditlog-base">`) for the browser, which provides it before hydrating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BasePath(pub String);

impl BasePath {
    /// `path` (absolute, `/…`) on this server, under the base path.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// The base path the server wrote into the page (the browser only).
    #[cfg(feature = "hydrate")]
    pub fn from_page() -> BasePath {
        document()
            .query_selector("meta[name='auditlog-base']")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .map(BasePath)
            .unwrap_or_default()
    }
}

/// The base path of the current request or page.
pub fn base_path() -> BasePath {
    use_context::<BasePath>().unwrap_or_default()
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    api::guard::expose_nonce();
    let base = base_path();
    let css = base.join("/pkg/auditlog.css");
    let base = base.0;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="auditlog-base" content=base.clone()/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options root=base/>
                <link rel="stylesheet" id="leptos" href=css/>
                <title>"Admin · auditlog"</title>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The demo admin panel, with the audit log mounted at `/admin/audit-log` the way a host app would mount it.
#[component]
pub fn App() -> impl IntoView {
    // Effects run only in the browser, after hydration: browser tests wait for this mark.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let base = base_path();
    view! {
        <Router base=base.0>
            <Routes fallback=panel::NotFound>
                <Route path=path!("/login") view=panel::Login ssr=SsrMode::Async/>
                <ParentRoute path=path!("/admin") view=panel::AdminLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=panel::Overview ssr=SsrMode::Async/>
                    <Route path=path!("users") view={Lazy::<panel::UsersPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("settings") view={Lazy::<panel::SettingsPage>::new()} ssr=SsrMode::Async/>
                    // Async: the server renders the whole tab, data included, so it works before (or without) the WASM.
                    <Route path=path!("audit-log") view=audit_log::AuditLogTab ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
