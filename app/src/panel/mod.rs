//! The demo host panel around the audit log: navigation and the other tabs.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

/// Navigation and the current tab.
#[component]
pub fn AdminLayout() -> impl IntoView {
    view! {
        <div class="panel">
            <header class="panel-header">
                <span class="brand">"Acme Mail Admin"</span>
                <nav aria-label="Admin">
                    <A href="/admin" exact=true>"Overview"</A>
                    <A href="/admin/users">"Users"</A>
                    <A href="/admin/settings">"Settings"</A>
                    <A href="/admin/audit-log">"Audit Log"</A>
                </nav>
            </header>
            <main class="panel-main">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <h1>"Overview"</h1>
        <p>"Welcome to the admin panel. Every administrative action is recorded in the Audit Log."</p>
    }
}

#[component]
pub fn Users() -> impl IntoView {
    view! {
        <h1>"Users"</h1>
        <p>"User management of the host panel."</p>
    }
}

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <h1>"Settings"</h1>
        <p>"Settings of the host panel."</p>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="panel-main">
            <h1>"Page not found"</h1>
            <p><a href="/admin">"Back to the admin panel"</a></p>
        </main>
    }
}
