//! `/login`: a plain form posted to the server, so signing in works before (or without) the WASM.

use leptos::prelude::*;

use crate::use_address;

#[component]
pub fn Login() -> impl IntoView {
    let address = use_address();
    let failed = address.param("error").is_some();
    let next = address.param("next").unwrap_or_else(|| "/admin".into());
    view! {
        <main class="login">
            <h1>"Sign in"</h1>
            {failed.then(|| view! { <p role="alert" class="error">"Invalid email or password"</p> })}
            <form method="post" action=crate::base_path().join("/login")>
                <input type="hidden" name="next" value=next/>
                <label for="login-email">"Email"</label>
                <input id="login-email" type="email" name="email" autocomplete="username" required/>
                <label for="login-password">"Password"</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit">"Sign in"</button>
            </form>
        </main>
    }
}
