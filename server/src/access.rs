//! The access table (what every route needs) and the middleware that enforces it for pages and server
//! functions; the JSON API checks scopes in its handlers through `auth::Caller`. Also: CSRF (unsafe methods
//! with a session cookie must carry a matching `Origin`) and the security headers of every response.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};

use app::api::guard::RequestMeta;

use crate::{
    auth::{SessionUser, came_over_https, client_ip, peer, session_cookie},
    error::ApiError,
    host_sign_in,
    state::AppState,
};

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Any signed-in user of the panel.
    SignedIn,
    /// A signed-in admin, of the whole log or of one tenant (who reads only its tenant's events).
    Admin,
    /// A signed-in admin of the whole log: the log's settings, tokens, webhooks, the panel's users.
    LogAdmin,
    /// The JSON API: a token with the right scope, or an admin session (checked by the handler).
    Api,
}

/// Server functions and who may call them. A server function missing here is refused to all but admins of
/// the whole log.
pub const SERVER_FNS: &[(&str, Access)] = &[
    ("list_events", Access::Admin),
    ("get_event", Access::Admin),
    ("get_facets", Access::Admin),
    ("get_facet_counts", Access::Admin),
    ("current_user", Access::SignedIn),
    ("list_users", Access::SignedIn),
    ("create_user", Access::LogAdmin),
    ("update_user", Access::LogAdmin),
    ("delete_user", Access::LogAdmin),
    ("list_settings", Access::SignedIn),
    ("update_setting", Access::SignedIn),
    ("list_tokens", Access::LogAdmin),
    ("create_token", Access::LogAdmin),
    ("revoke_token", Access::LogAdmin),
    ("list_ip_blocks", Access::LogAdmin),
    ("unblock_ip", Access::LogAdmin),
    ("list_webhooks", Access::LogAdmin),
    ("add_webhook", Access::LogAdmin),
    ("webhook_action", Access::LogAdmin),
    ("verify_status", Access::Admin),
];

pub const SERVER_FN_PREFIX: &str = "/api/fn/";

/// The access a path needs.
pub fn access_for(path: &str) -> Access {
    if let Some(name) = path.strip_prefix(SERVER_FN_PREFIX) {
        return SERVER_FNS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Access::LogAdmin, |(_, a)| *a);
    }
    if path.starts_with("/api/") {
        return Access::Api;
    }
    if path == "/admin/audit-log" || path.starts_with("/admin/audit-log/") {
        return Access::Admin;
    }
    if path == "/admin" || path.starts_with("/admin/") {
        return Access::SignedIn;
    }
    Access::Public
}

/// Resolves the session cookie into `SessionUser`, then applies the access table.
pub async fn enforce(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let meta = request_meta(&state, &req);
    let asking = crate::viewers::Asking {
        uri: req.uri(),
        headers: req.headers(),
        extensions: req.extensions(),
    };
    let mut user = state.viewers.viewer(asking).await;
    if user.is_none() {
        if req.method() == Method::GET
            && !req.uri().path().starts_with("/api/")
            && let Some(answer) = host_sign_in::exchange(&state, req.uri(), &meta).await
        {
            return answer;
        }
        match host_sign_in::bearer_viewer(&state, req.headers(), &meta).await {
            Ok(viewer) => user = viewer,
            Err(refused) => return refused,
        }
    }
    if let Err(refusal) = check_origin(req.method(), req.headers(), user.is_some()) {
        return *refusal;
    }
    let path = req.uri().path().to_string();
    let is_server_fn = path.starts_with(SERVER_FN_PREFIX);
    let allowed = match access_for(&path) {
        Access::Public | Access::Api => Ok(()),
        Access::SignedIn if user.is_some() => Ok(()),
        Access::Admin if user.as_ref().is_some_and(|u| u.is_admin()) => Ok(()),
        Access::LogAdmin if user.as_ref().is_some_and(|u| u.is_log_admin()) => Ok(()),
        Access::SignedIn | Access::Admin | Access::LogAdmin if user.is_none() => Err(StatusCode::UNAUTHORIZED),
        _ => Err(StatusCode::FORBIDDEN),
    };
    match allowed {
        Ok(()) => {
            req.extensions_mut().insert(meta);
            req.extensions_mut().insert(SessionUser(user));
            next.run(req).await
        }
        Err(status) if is_server_fn => {
            let e = match status {
                StatusCode::UNAUTHORIZED => ApiError::unauthorized("sign in first"),
                _ if user.as_ref().is_some_and(|u| u.is_admin()) => {
                    ApiError::forbidden(app::api::guard::WHOLE_LOG_ONLY)
                }
                _ => ApiError::forbidden("this is for admins only"),
            };
            e.into_response()
        }
        Err(StatusCode::UNAUTHORIZED) => {
            let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/admin");
            Redirect::to(&format!("/login?next={}", urlencoding::encode(target))).into_response()
        }
        Err(_) => {
            let base = req
                .extensions()
                .get::<crate::base::BasePath>()
                .cloned()
                .unwrap_or_default();
            forbidden_page(&base)
        }
    }
}

/// Where a request came from: the client IP as the proxy settings decide, the user agent, https or not.
fn request_meta(state: &AppState, req: &Request) -> RequestMeta {
    let trusted = &state.security.trusted_proxies;
    let ip = client_ip(req.headers(), peer(req.extensions()), trusted);
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    RequestMeta {
        https: came_over_https(req.headers(), peer(req.extensions()), trusted),
        ip: ip.map(|ip| ip.to_string()),
        user_agent: user_agent.map(|ua| ua.chars().take(1000).collect()),
    }
}

/// State-changing requests: with a session cookie, `Origin` must match the host; without one, an `Origin`
/// that is present must still match (sign-in).
fn check_origin(method: &Method, headers: &HeaderMap, has_session: bool) -> Result<(), Box<Response>> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let has_cookie = session_cookie(headers).is_some() || has_session;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let same = |origin: &str| {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
    };
    match origin {
        Some(o) if same(o) => Ok(()),
        None if !has_cookie => Ok(()),
        _ if !has_cookie && headers.contains_key(header::AUTHORIZATION) => Ok(()),
        _ => Err(Box::new(
            ApiError::forbidden("cross-origin request refused (Origin does not match)").into_response(),
        )),
    }
}

fn forbidden_page(base: &crate::base::BasePath) -> Response {
    let (css, admin) = (base.join("/pkg/auditlog.css"), base.join("/admin"));
    let body = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Forbidden</title>
<link rel="stylesheet" href="{css}"><link rel="icon" href="data:,"></head>
<body><main class="panel-main"><h1>403 — Forbidden</h1>
<p>The audit log is for admins only.</p><p><a href="{admin}">Back to the admin panel</a></p></main></body></html>"#
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

/// The nonce header the shell sets for the page's own inline scripts (never sent to the client).
pub const NONCE_HEADER: &str = "x-auditlog-nonce";

/// `Content-Security-Policy` (no third-party sources; the page's inline scripts by nonce;
/// `frame-ancestors` from configuration), `X-Content-Type-Options`, `Referrer-Policy`, and
/// `Cache-Control: no-store` on everything but the site's own files, and `Strict-Transport-Security` over https.
pub async fn security_headers(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    // The site's own files (WASM, JS, CSS) may be cached; nothing else: pages and answers carry audit data.
    let asset = req.uri().path().starts_with("/pkg/");
    let https = came_over_https(req.headers(), peer(req.extensions()), &state.security.trusted_proxies);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if !asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        // Served over https through the proxy: browsers keep to https for this host from now on.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let nonce = headers
        .remove(NONCE_HEADER)
        .and_then(|v| v.to_str().ok().map(str::to_string));
    let script = match &nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    let csp = format!(
        "default-src 'self'; {script}; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {}",
        state.security.frame_ancestors
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Server-function bodies at most this long (a filter, a form of the panel: a few hundred bytes).
pub const SERVER_FN_MAX_BODY: usize = 64 * 1024;
/// Sign-in bodies at most this long (an email, a password, a path).
pub const SIGN_IN_MAX_BODY: usize = 4 * 1024;

/// Bodies of server functions and of the sign-in form are read whole here, up to their limit: a longer one is
/// a 413 with the API's JSON error, before any parser sees it (past a few MiB, the framework used to reset
/// the connection without an answer).
pub async fn limit_bodies(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let limit = if path.starts_with("/api/fn/") {
        SERVER_FN_MAX_BODY
    } else if path == "/login" {
        SIGN_IN_MAX_BODY
    } else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let bytes = match declared {
        Some(n) if n > limit => None,
        _ => axum::body::to_bytes(body, limit).await.ok(),
    };
    match bytes {
        Some(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        None => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body must be at most {} KiB", limit / 1024),
        )
        .into_response(),
    }
}

/// The server-function framework answers arguments it cannot decode (a missing or malformed field) with a 500,
/// whose body is the API's JSON error with the code `invalid_request` (`app::model::AppError`). That is the
/// caller's mistake, so it becomes a 400. The functions' own refusals carry their status already (see
/// `app::api::guard::refuse`).
pub async fn bad_arguments_are_400(req: Request, next: Next) -> Response {
    let server_fn = req.uri().path().starts_with("/api/fn/");
    let response = next.run(req).await;
    if !server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the error could not be read").into_response();
    };
    let callers_mistake =
        serde_json::from_slice::<app::model::AppError>(&bytes).is_ok_and(|e| e.error.code == "invalid_request");
    if callers_mistake {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
