//! The demo host panel around the audit log: sign-in, navigation, and tabs that really change data.

mod login;
mod settings;
mod users;
mod webhooks;

pub use login::Login;
pub use settings::Settings;
pub use users::Users;

use leptos::prelude::*;
use leptos_router::{
    LazyRoute,
    components::{A, Outlet},
    lazy_route,
};

use crate::api::current_user;

/// The Users tab as a route whose code the browser loads when the tab is opened (`cargo leptos build
/// --split`): it is not part of the download every page makes, which is the audit log's.
pub struct UsersPage;

#[lazy_route]
impl LazyRoute for UsersPage {
    fn data() -> Self {
        UsersPage
    }

    fn view(this: Self) -> AnyView {
        let UsersPage = this;
        view! { <Users/> }.into_any()
    }
}

/// The Settings tab (webhooks included), loaded like `UsersPage`.
pub struct SettingsPage;

#[lazy_route]
impl LazyRoute for SettingsPage {
    fn data() -> Self {
        SettingsPage
    }

    fn view(this: Self) -> AnyView {
        let SettingsPage = this;
        view! { <Settings/> }.into_any()
    }
}

/// Navigation (the `Audit Log` link only for admins), who is signed in, and the current tab.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| async move { current_user().await.ok().flatten() });
    // `embed=1`: the tab alone, for a host that frames it or gives it a page of its own.
    let embedded = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("embed").as_deref() == Some("1"));
    if embedded {
        return view! {
            <main class="panel-main embedded">
                <Outlet/>
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
                                <A href="/admin" exact=true>"Overview"</A>
                                <A href="/admin/users">"Users"</A>
                                <A href="/admin/settings">"Settings"</A>
                                {is_admin.then(|| view! { <A href="/admin/audit-log">"Audit Log"</A> })}
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
                <Outlet/>
            </main>
        </div>
    }
    .into_any()
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
