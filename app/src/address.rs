//! Where the page is: its path below the base path, which picks the page (`Page`), and its query string,
//! where the audit log tab keeps all of its state. The server reads both from the request; the browser from
//! `window.location`, and keeps the query current as the tab moves (`Address::go`) and as Back and Forward
//! move through the history it made.

use leptos::prelude::*;

/// The pages, each its own document: a link between them loads the next page from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Login,
    Overview,
    Users,
    Settings,
    AuditLog,
    NotFound,
}

impl Page {
    /// Every page's path below the base path: the server answers these, anything else is `NotFound`.
    pub const PATHS: [(&'static str, Page); 5] = [
        ("/login", Page::Login),
        ("/admin", Page::Overview),
        ("/admin/users", Page::Users),
        ("/admin/settings", Page::Settings),
        ("/admin/audit-log", Page::AuditLog),
    ];

    /// The page's path below the base path (`NotFound` has none: the panel's first page stands in).
    pub fn path(self) -> &'static str {
        Page::PATHS
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("/admin", |(path, _)| *path)
    }

    /// The page at `path` (below the base path), exactly as the server routes it.
    pub fn at(path: &str) -> Page {
        Page::PATHS
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(Page::NotFound, |(_, page)| *page)
    }
}

/// The current page's address, provided to every page (`use_address`).
#[derive(Clone, Copy)]
pub struct Address {
    path: StoredValue<String>,
    /// The query string without its `?`.
    query: RwSignal<String>,
}

impl Address {
    /// The address of the request being rendered (on the server: below the base path, which axum's nesting
    /// takes off).
    #[cfg(feature = "ssr")]
    pub fn of_request() -> Address {
        let uri = use_context::<axum::http::request::Parts>().map(|parts| parts.uri);
        let path = uri.as_ref().map_or("/", |u| u.path()).to_string();
        let query = uri.as_ref().and_then(|u| u.query()).unwrap_or_default().to_string();
        Address::new(path, query)
    }

    /// The address the browser shows (below `base`); from now on Back and Forward keep its query current.
    #[cfg(feature = "hydrate")]
    pub fn of_window(base: &crate::BasePath) -> Address {
        let address = Address::new(window_path(base), window_query());
        let query = address.query;
        // Kept for the page's life: the handle removes the listener only when told to.
        let _listening = window_event_listener(leptos::ev::popstate, move |_| {
            query.try_set(window_query());
        });
        address
    }

    fn new(path: String, query: String) -> Address {
        Address {
            path: StoredValue::new(path),
            query: RwSignal::new(query),
        }
    }

    /// The page at this address.
    pub fn page(&self) -> Page {
        self.path.with_value(|p| Page::at(p))
    }

    /// Whether the page is `page` (links to it are marked as the current page).
    pub fn is(&self, page: Page) -> bool {
        self.page() == page
    }

    /// The query string (no `?`), tracked: it changes as the tab moves.
    pub fn query(&self) -> String {
        self.query.get()
    }

    /// The query string, untracked.
    pub fn query_untracked(&self) -> String {
        self.query.get_untracked()
    }

    /// The first value of parameter `name` in the query string, untracked.
    pub fn param(&self, name: &str) -> Option<String> {
        let pairs = crate::model::query::decode_pairs(&self.query_untracked());
        pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Shows the same page with query string `query` (no `?`): a new history entry, or (`replace`) in place
    /// of the current one. Nothing is loaded: what reads the query follows it.
    pub fn go(&self, query: &str, replace: bool) {
        #[cfg(feature = "hydrate")]
        {
            let path = window().location().pathname().unwrap_or_default();
            let url = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            if let Ok(history) = window().history() {
                let state = leptos::wasm_bindgen::JsValue::NULL;
                let _ = match replace {
                    true => history.replace_state_with_url(&state, "", Some(&url)),
                    false => history.push_state_with_url(&state, "", Some(&url)),
                };
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = replace;
        self.query.set(query.to_string());
    }
}

/// The path the browser shows, below `base`.
#[cfg(feature = "hydrate")]
pub(crate) fn window_path(base: &crate::BasePath) -> String {
    let shown = window().location().pathname().unwrap_or_default();
    shown.strip_prefix(base.0.as_str()).unwrap_or(&shown).to_string()
}

#[cfg(feature = "hydrate")]
fn window_query() -> String {
    let search = window().location().search().unwrap_or_default();
    search.strip_prefix('?').unwrap_or(&search).to_string()
}

/// The current page's address: the one provided, or (in a host app that provides none) the request's or the
/// browser's, provided from here down.
pub fn use_address() -> Address {
    use_context::<Address>().unwrap_or_else(|| {
        #[cfg(feature = "ssr")]
        let address = Address::of_request();
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        let address = Address::of_window(&crate::base_path());
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        let address = Address::new("/".into(), String::new());
        provide_context(address);
        address
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_names_its_page_and_no_other_path_does() {
        for (path, page) in Page::PATHS {
            assert_eq!(Page::at(path), page);
            assert_eq!(Page::path(page), path);
            assert_eq!(Page::at(&format!("{path}/")), Page::NotFound);
        }
        assert_eq!(Page::at("/"), Page::NotFound);
        assert_eq!(Page::at("/admin/nope"), Page::NotFound);
        assert_eq!(Page::at("/admin/users/x"), Page::NotFound);
    }
}
