//! The one place where a server function learns who calls it and whether they may, and where store errors
//! become what the browser may see. (The server's access middleware applies the same table first.)

use axum::http::StatusCode;
use leptos::prelude::*;

use crate::{
    model::{AppError, FieldError, NewEvent, User},
    store::{AuditStore, StoreError},
};

/// The signed-in user of a request: the server's session middleware puts it in the request's extensions.
#[derive(Clone, Debug, Default)]
pub struct SessionUser(pub Option<User>);

/// Where a request came from (client IP as the server's proxy settings decide, user agent), put in the
/// request's extensions by the server's middleware.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The request came over https (a trusted proxy in front says so).
    pub https: bool,
}

/// Where the current request came from (empty outside a request).
pub fn request_meta() -> RequestMeta {
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<RequestMeta>().cloned())
        .unwrap_or_default()
}

/// An event the panel caused, with the request's IP and user agent, from source `admin-panel`. The store
/// records it in the same transaction as the change (`*_recorded`), so neither exists without the other.
pub fn panel_event(mut event: NewEvent, meta: &RequestMeta) -> NewEvent {
    event.ip = event.ip.or_else(|| meta.ip.clone());
    event.user_agent = event.user_agent.or_else(|| meta.user_agent.clone());
    event.source = event.source.or_else(|| Some("admin-panel".into()));
    event
}

/// The signed-in user of the current request, if any.
pub fn session_user() -> Option<User> {
    use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<SessionUser>()?
        .0
        .clone()
}

fn store() -> Result<AuditStore, AppError> {
    use_context::<AuditStore>().ok_or_else(|| refuse(StatusCode::SERVICE_UNAVAILABLE, "audit store is not configured"))
}

/// An error the caller sees, answered with `status`: 400 for bad input (the message names the field), 401,
/// 403, 404; a store failure is a 503. Nothing a caller sends should end in a 500.
pub fn refuse(status: StatusCode, message: impl Into<String>) -> AppError {
    let code = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::BAD_REQUEST => "invalid_request",
        _ => "unavailable",
    };
    respond(status, AppError::new(code, message))
}

/// Bad input: a 400 that names the field.
pub fn bad_input(e: FieldError) -> AppError {
    respond(StatusCode::BAD_REQUEST, e.into())
}

/// Sets the response's status for `e`.
fn respond(status: StatusCode, e: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    e
}

/// Any signed-in user, with the store.
pub fn signed_in() -> Result<(AuditStore, User), AppError> {
    let user = session_user().ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "sign in first"))?;
    Ok((store()?, user))
}

/// Why an admin of one tenant is refused what is for admins of the whole log.
pub const WHOLE_LOG_ONLY: &str = "this is for admins of the whole log; you see one tenant's events";

/// A signed-in admin of the whole log (not one tenant's), with the store: what the settings need.
pub fn admin() -> Result<(AuditStore, User), AppError> {
    let (store, user) = tenant_admin()?;
    if !user.is_log_admin() {
        return Err(refuse(StatusCode::FORBIDDEN, WHOLE_LOG_ONLY));
    }
    Ok((store, user))
}

/// A signed-in admin, of the whole log or of one tenant.
fn tenant_admin() -> Result<(AuditStore, User), AppError> {
    let (store, user) = signed_in()?;
    if !user.is_admin() {
        return Err(refuse(StatusCode::FORBIDDEN, "this is for admins only"));
    }
    Ok((store, user))
}

/// The store, when the caller may read the audit log (admins only), with the tenant the caller is bound to:
/// every read goes through `AuditQuery::within` or the store's `*_within` with it.
pub async fn audit_reader() -> Result<(AuditStore, Option<String>), AppError> {
    tenant_admin().map(|(store, user)| (store, user.tenant))
}

/// Validation and not-found errors are shown as they are; a database error is logged with its cause and
/// reaches the browser only as "unavailable", never as SQL text.
pub fn opaque(e: StoreError) -> AppError {
    match e {
        StoreError::Invalid(f) => bad_input(f),
        StoreError::NotFound => refuse(StatusCode::NOT_FOUND, "not found"),
        other => {
            tracing::error!(error = %other, "audit store failed");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the audit log is unavailable right now",
            )
        }
    }
}

/// Hands the page's script nonce to the server's security-header middleware (as a response header that
/// the middleware removes), so the `Content-Security-Policy` can allow exactly the page's own scripts.
pub fn expose_nonce() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&nonce) {
        response.insert_header(axum::http::HeaderName::from_static("x-auditlog-nonce"), value);
    }
}
