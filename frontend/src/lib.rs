//! The browser entry: hydrates the server-rendered page.
#![forbid(unsafe_code)]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Under a base path (`--base-path`), server functions are called below it too.
    let base = app::BasePath::from_page();
    if !base.0.is_empty() {
        leptos::server_fn::client::set_server_url(base.0.clone().leak());
    }
    // Lazy: the panel's other tabs are routes whose code is loaded when they are shown (`--split`).
    leptos::mount::hydrate_lazy(move || {
        leptos::prelude::provide_context(base);
        app::App()
    });
}
