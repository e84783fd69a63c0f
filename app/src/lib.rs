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
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    api::guard::expose_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
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
    provide_meta_context();
    // Effects run only in the browser, after hydration: browser tests wait for this mark.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/auditlog.css"/>
        <Title text="Admin · auditlog"/>
        <Router>
            <Routes fallback=panel::NotFound>
                <Route path=path!("/login") view=panel::Login ssr=SsrMode::Async/>
                <ParentRoute path=path!("/admin") view=panel::AdminLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=panel::Overview ssr=SsrMode::Async/>
                    <Route path=path!("users") view=panel::Users ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=panel::Settings ssr=SsrMode::Async/>
                    // Async: the server renders the whole tab, data included, so it works before (or without) the WASM.
                    <Route path=path!("audit-log") view=audit_log::AuditLogTab ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
