//! The demo host panel around the audit log: sign-in, navigation, and tabs that really change data.

mod login;
mod settings;
mod users;
mod webhooks;

pub use login::Login;
pub use settings::Settings;
pub use users::Users;

use leptos::prelude::*;

use crate::{Page, api::current_user, use_address};

/// The Users page. In the browser its code is in a WASM file of its own, which only this page loads
/// (`hydrate_users`): it is not part of the download every page makes, which is the audit log's.
pub fn users_page() -> AnyView {
    view! { <AdminLayout><Users/></AdminLayout> }.into_any()
}

/// The Settings page (webhooks included), split like `users_page`.
pub fn settings_page() -> AnyView {
    view! { <AdminLayout><Settings/></AdminLayout> }.into_any()
}

/// Hydrates the Users page: the browser loads this function's file (and with it the page's code) first.
#[cfg(feature = "hydrate")]
#[lazy]
pub fn hydrate_users(base: crate::BasePath) {
    crate::hydrate_with(base, users_page);
}

/// Hydrates the Settings page, loaded like `hydrate_users`.
#[cfg(feature = "hydrate")]
#[lazy]
pub fn hydrate_settings(base: crate::BasePath) {
    crate::hydrate_with(base, settings_page);
}

/// Navigation (the `Audit Log` link only for admins), who is signed in, and the current tab.
#[component]
pub fn AdminLayout(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| async move { current_user().await.ok().flatten() });
    // `embed=1`: the tab alone, for a host that frames it or gives it a page of its own.
    let embedded = use_address().param("embed").as_deref() == Some("1");
    if embedded {
        return view! {
            <main class="panel-main embedded">
                {children()}
            </main>
        }
        .into_any();
    }
    view! {
        <div class="panel">
            <header class="panel-header">
                <span class="brand">"Acme Mail Admin"</span>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let user = user.await;
                        let is_admin = user.as_ref().is_some_and(|u| u.is_admin());
                        let who = user.map(|u| format!("{} ({})", u.email, u.role.as_str())).unwrap_or_default();
                        view! {
                            <nav aria-label="Admin">
                                <NavLink page=Page::Overview label="Overview"/>
                                <NavLink page=Page::Users label="Users"/>
                                <NavLink page=Page::Settings label="Settings"/>
                                {is_admin.then(|| view! { <NavLink page=Page::AuditLog label="Audit Log"/> })}
                            </nav>
                            <form class="signed-in" method="post" action=crate::base_path().join("/logout")>
                                <span>{who}</span>
                                <button type="submit" class="secondary">"Sign out"</button>
                            </form>
                        }
                    })}
                </Suspense>
            </header>
            <main class="panel-main">
                {children()}
            </main>
        </div>
    }
    .into_any()
}

/// A link to one of the pages, marked when it is the current one.
#[component]
fn NavLink(page: Page, label: &'static str) -> impl IntoView {
    let current = use_address().is(page).then_some("page");
    view! { <a href=crate::base_path().join(page.path()) aria-current=current>{label}</a> }
}

#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <h1>"Overview"</h1>
        <p>"Welcome to the admin panel. Every administrative action is recorded in the Audit Log."</p>
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
            <p><a href=crate::base_path().join("/admin")>"Back to the admin panel"</a></p>
        </main>
    }
}
