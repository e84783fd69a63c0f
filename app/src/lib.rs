//! auditlog: the audit log tab (`audit_log`), the demo admin panel that hosts it (`panel`), the shared wire
//! types (`model`), server functions (`api`) and, on the server, the SQLite store (`store`).
#![forbid(unsafe_code)]

mod address;
pub mod api;
pub mod audit_log;
pub mod model;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod trust;

use leptos::prelude::*;

pub use address::{Address, Page, use_address};

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

/// The demo admin panel, with the audit log at `/admin/audit-log` the way a host app would mount it: the page
/// at the request's path, rendered whole on the server (its data included, so it works before or without the
/// WASM).
#[component]
pub fn App() -> impl IntoView {
    let page = use_address().page();
    match page {
        Page::Users => panel::users_page(),
        Page::Settings => panel::settings_page(),
        page => main_page(page),
    }
}

/// The pages whose code is in the WASM file every page loads: the audit log tab's, and the small ones.
pub fn main_page(page: Page) -> AnyView {
    match page {
        Page::Login => view! { <panel::Login/> }.into_any(),
        Page::Overview => view! { <panel::AdminLayout><panel::Overview/></panel::AdminLayout> }.into_any(),
        Page::AuditLog => view! { <panel::AdminLayout><audit_log::AuditLogTab/></panel::AdminLayout> }.into_any(),
        // Users and Settings never come here: `App` and `hydrate` send them to their own functions.
        Page::Users | Page::Settings | Page::NotFound => view! { <panel::NotFound/> }.into_any(),
    }
}

/// Hydrates the server-rendered page. The Users and Settings pages' code is in WASM files of their own
/// (`cargo leptos build --split`), loaded first on those pages only.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    // Tasks (loading a page's own file, the views' resources) run on the browser's event loop; an error only
    // says it was set already.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    // Under a base path (`--base-path`), server functions are called below it too.
    let base = BasePath::from_page();
    if !base.0.is_empty() {
        leptos::server_fn::client::set_server_url(base.0.clone().leak());
    }
    match Page::at(&address::window_path(&base)) {
        Page::Users => leptos::task::spawn_local(panel::hydrate_users(base)),
        Page::Settings => leptos::task::spawn_local(panel::hydrate_settings(base)),
        page => hydrate_with(base, move || main_page(page)),
    }
}

/// Hydrates the page `view` renders, with what every page is given.
#[cfg(feature = "hydrate")]
pub(crate) fn hydrate_with(base: BasePath, view: impl FnOnce() -> AnyView + 'static) {
    leptos::mount::hydrate_body(move || {
        provide_context(Address::of_window(&base));
        provide_context(base);
        // Browser tests wait for this mark.
        Effect::new(|_| {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        });
        view()
    });
}
