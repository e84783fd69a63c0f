//! Sign-in and sign-out (plain HTML form posts, so they work without the WASM), with brute-force
//! protection: too many failures from one IP block sign-in from it for a while (429 with `Retry-After`).

use app::{
    api::guard::RequestMeta,
    model::{NewEvent, recorded},
    store::{AuditStore, SignInAttempt, StoreError},
};
use axum::{
    Form,
    extract::{FromRequest, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    auth::{self, SessionUser},
    state::AppState,
};

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Where the request came from, for the events it causes.
struct Origin {
    ip: Option<String>,
    user_agent: Option<String>,
    secure: bool,
}

/// The client IP and user agent the access middleware recorded for this request, and whether it came
/// over https (through a proxy that says so).
fn origin_of(extensions: &axum::http::Extensions) -> Origin {
    let meta = extensions.get::<RequestMeta>().cloned().unwrap_or_default();
    Origin {
        ip: meta.ip,
        user_agent: meta.user_agent,
        secure: meta.https,
    }
}

/// The event, from where the request came.
fn from_request(e: NewEvent, from: &Origin) -> NewEvent {
    NewEvent {
        ip: from.ip.clone(),
        user_agent: from.user_agent.clone(),
        ..e
    }
}

/// Records an event of the sign-in page, by the product itself (the session, if any, is being made or ended).
async fn record(store: &AuditStore, e: NewEvent) {
    if let Err(err) = store.record(e).await {
        tracing::error!(error = %err, "could not record an auth event");
    }
}

/// Only same-site paths: never `//host` or a full URL.
/// Browsers drop tabs and line breaks from a URL and read `\` as `/`, so `/\t/evil.example` would be
/// `//evil.example`: a path with any control character or backslash, or that starts with `//`, goes to the panel.
fn safe_next(next: &str) -> &str {
    let plain = !next.chars().any(|c| c.is_control() || c == '\\');
    if plain && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/admin"
    }
}

fn too_many(retry_after_ms: i64, base: &crate::base::BasePath) -> Response {
    let secs = (retry_after_ms.max(0) + 999) / 1000;
    let css = base.join("/pkg/auditlog.css");
    let body = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Too many sign-in attempts</title>
<link rel="stylesheet" href="{css}"></head><body><main class="login"><h1>Too many sign-in attempts</h1>
<p role="alert">Sign-in from your address is blocked for {} more minutes.</p></main></body></html>"#,
        (secs + 59) / 60
    );
    let mut r = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let from = origin_of(&parts.extensions);
    let base = parts
        .extensions
        .get::<crate::base::BasePath>()
        .cloned()
        .unwrap_or_default();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(Request::from_parts(parts, body), &()).await else {
        return Redirect::to("/login?error=invalid").into_response();
    };
    let now = chrono::Utc::now().timestamp_millis();
    let ip = from.ip.clone().unwrap_or_else(|| "unknown".into());
    let policy = state.security.brute_force;
    // A blocked address is refused before anything else: its attempts cost no password hash.
    match state.store.ip_blocked_until(&ip, now).await {
        Ok(Some(until)) => return too_many(until - now, &base),
        Ok(None) => {}
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    }
    // The attempt counts as a failure before its verdict is used: parallel attempts cannot all be judged.
    let count = state.store.begin_sign_in(&ip, &form.email, now, policy);
    let check = state.store.authenticate(&form.email, &form.password);
    let (ids, account_failures, user) = match counted_then_judged(count, check).await {
        Ok(Counted::Blocked(until)) => return too_many(until - now, &base),
        Ok(Counted::Judged {
            ids,
            account_failures,
            verdict: Ok(user),
        }) => (ids, account_failures, user),
        Ok(Counted::Judged { verdict: Err(e), .. }) | Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    tokio::time::sleep(account_slowdown(account_failures, policy.max_failures)).await;
    match user {
        Some(user) => signed_in(&state, &user, ids, &from, &form.next).await,
        None => {
            metrics::counter!("login_failures_total").increment(1);
            record(&state.store, from_request(recorded::sign_in_failed(&form.email), &from)).await;
            match state.store.sign_in_failed(&ip, now, policy).await {
                Ok(Some(until)) => {
                    metrics::counter!("ips_blocked_total").increment(1);
                    record(&state.store, from_request(policy.blocked_event(&ip), &from)).await;
                    too_many(until - now, &base)
                }
                Ok(None) => {
                    let next = urlencoding::encode(safe_next(&form.next)).into_owned();
                    Redirect::to(&format!("/login?error=invalid&next={next}")).into_response()
                }
                Err(e) => crate::error::ApiError::from(e).into_response(),
            }
        }
    }
}

/// What `counted_then_judged` found.
enum Counted<T> {
    /// The attempt was not counted: sign-in from its address group is blocked until then (Unix ms).
    Blocked(i64),
    /// The attempt was counted (`ids`, see `SignInAttempt::Judge`) and the password checked.
    Judged {
        ids: Vec<i64>,
        account_failures: u32,
        verdict: T,
    },
}

/// Counts an attempt (`count`, through the event writer) while its password is checked (`check`), so that a
/// sign-in waits for the slower of the two rather than for both in turn. The verdict is only kept once the
/// attempt has been counted; when the attempt is blocked instead, `check` is dropped, and a hash still
/// waiting for its turn (`hashing_turns`) is never computed.
async fn counted_then_judged<T>(
    count: impl Future<Output = Result<SignInAttempt, StoreError>>,
    check: impl Future<Output = T>,
) -> Result<Counted<T>, StoreError> {
    let (mut count, mut check) = (std::pin::pin!(count), std::pin::pin!(check));
    let mut verdict = None;
    let attempt = loop {
        tokio::select! {
            attempt = &mut count => break attempt?,
            v = &mut check, if verdict.is_none() => verdict = Some(v),
        }
    };
    match attempt {
        SignInAttempt::Blocked(until) => Ok(Counted::Blocked(until)),
        SignInAttempt::Judge { ids, account_failures } => Ok(Counted::Judged {
            ids,
            account_failures,
            verdict: match verdict {
                Some(v) => v,
                None => check.await,
            },
        }),
    }
}

/// How long an attempt on an account that failed `failures` times in the window waits before it is judged:
/// nothing up to `max_failures`, then a second more for each further failure, at most ten. It slows guessing
/// one account's password from many addresses, each under its own block.
fn account_slowdown(failures: u32, max_failures: u32) -> std::time::Duration {
    let over = failures.saturating_sub(max_failures.saturating_sub(1));
    std::time::Duration::from_secs(u64::from(over.min(10)))
}

/// A new session for `user` (its attempt taken back, the sign-in recorded, together), and the way on to `next`.
async fn signed_in(
    state: &AppState,
    user: &app::model::User,
    attempt: Vec<i64>,
    from: &Origin,
    next: &str,
) -> Response {
    let ttl_ms = match state.store.session_ttl_ms().await {
        Ok(ttl) => ttl,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let event = from_request(recorded::signed_in(user), from);
    let token = match state.store.sign_in_succeeded(attempt, &user.id, ttl_ms, event).await {
        Ok(t) => t,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let secure = if from.secure { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::session_cookie_name(from.secure),
        ttl_ms / 1000
    );
    let mut r = Redirect::to(safe_next(next)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let from = origin_of(req.extensions());
    if let Some(token) = auth::session_cookie(req.headers()) {
        if let Some(SessionUser(Some(user))) = req.extensions().get::<SessionUser>() {
            record(&state.store, from_request(recorded::signed_out(user), &from)).await;
        }
        if let Err(e) = state.store.delete_session(token).await {
            tracing::error!(error = %e, "could not delete a session");
        }
        if let Err(e) = state.store.delete_host_session(token).await {
            tracing::error!(error = %e, "could not delete a host session");
        }
    }
    let mut r = Redirect::to("/login").into_response();
    let secure = if from.secure { "; Secure" } else { "" };
    let clear = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        auth::session_cookie_name(from.secure)
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_that_keeps_failing_waits_longer_before_each_attempt() {
        let wait = |failures| account_slowdown(failures, 5).as_secs();
        assert_eq!((wait(0), wait(4)), (0, 0));
        assert_eq!((wait(5), wait(6), wait(9)), (1, 2, 5));
        assert_eq!(wait(100), 10);
    }

    #[test]
    fn only_a_plain_same_site_path_is_followed() {
        assert_eq!(safe_next("/admin/audit-log?x=1"), "/admin/audit-log?x=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(bad), "/admin", "{bad:?}");
        }
    }
}
