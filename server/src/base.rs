//! `--base-path` (`AUDITLOG_BASE_PATH`): the whole server under one path prefix, for a host whose reverse proxy
//! passes one path (`/admin/audit`) to it, prefix included. The router is nested under the prefix, so each
//! request is routed as if it were not there; `BasePath` goes into its extensions for the pages and server
//! functions, and what goes back to the browser gets the prefix: `Location` headers, and the forms whose
//! action Leptos writes as the bare path of a server function. Everything else the app writes with the prefix
//! itself (`app::BasePath`).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub use app::BasePath;

/// The longest page the server renders, read whole to give its server-function forms the prefix.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// In a page's or a server function's reactive context: the request's base path (`app::base_path` reads it).
pub fn provide_for_request() {
    use leptos::prelude::{provide_context, use_context};
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return;
    };
    if let Some(base) = parts.extensions.get::<BasePath>().cloned() {
        provide_context(base);
    }
}

/// A base path as configured: `""` (none) or `/segment[/segment…]` of letters, digits, `-`, `_`, `.` and `~`,
/// without a trailing `/`; the error says what is wrong.
pub fn parse(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
    let well_formed = trimmed.starts_with('/')
        && trimmed[1..]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && s.chars().all(allowed));
    match well_formed {
        true => Ok(trimmed.to_string()),
        false => Err(format!(
            "AUDITLOG_BASE_PATH {raw:?}: must be a path such as /admin/audit (segments of letters, digits, -, _, . and ~)"
        )),
    }
}

/// The middleware around the nested router: the request carries its base path, the response gets it.
pub async fn under_base(State(base): State<BasePath>, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(base.clone());
    let response = next.run(req).await;
    with_base(&base.0, response).await
}

/// The response with the prefix on its `Location` (a path on this server) and, in a page, on the actions of
/// its server-function forms.
async fn with_base(base: &str, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts.headers.get(header::LOCATION).and_then(|l| l.to_str().ok())
        && location.starts_with('/')
        && !location.starts_with("//")
        && let Ok(prefixed) = HeaderValue::from_str(&format!("{base}{location}"))
    {
        parts.headers.insert(header::LOCATION, prefixed);
    }
    let is_page = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !is_page {
        return Response::from_parts(parts, body);
    }
    let Ok(html) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the page could not be read").into_response();
    };
    let html = String::from_utf8_lossy(&html).replace(r#"action="/api/fn/"#, &format!(r#"action="{base}/api/fn/"#));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_path_is_a_plain_path_without_a_trailing_slash() {
        assert_eq!(parse("").unwrap(), "");
        assert_eq!(parse("/").unwrap(), "");
        assert_eq!(parse("/admin/audit/").unwrap(), "/admin/audit");
        for bad in ["admin", "/a//b", "/a/../b", "/a b", "/a?b", "/%2e"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
