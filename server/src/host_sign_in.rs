//! Where the host's JWT sign-in meets a request: a bearer JWT stands for the person for that request, and
//! `?auth_token=` on a page is exchanged once for a session cookie and a redirect to the same URL without it
//! (so that the token stays in no history or log). A refused token is a 401, recorded as an `auth.login`
//! failure with its reason and counted against the address like a wrong password.

use app::{
    api::guard::RequestMeta,
    model::{NewEvent, User, recorded},
    store::SignInAttempt,
};
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    auth::{self, bearer},
    error::ApiError,
    jwt::{HostTokens, Refusal, claimed_subject, looks_like_jwt},
    state::AppState,
};

/// The person a bearer JWT stands for; `Ok(None)` when the request carries none (or no JWT is configured).
pub async fn bearer_viewer(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
) -> Result<Option<User>, Response> {
    let (Some(tokens), Some(credential)) = (state.security.host_tokens.as_deref(), bearer(headers)) else {
        return Ok(None);
    };
    if !looks_like_jwt(credential) {
        return Ok(None);
    }
    verified(state, tokens, credential, meta, false)
        .await
        .map(|v| Some(v.viewer))
}

/// The answer to a page request that carries `?auth_token=`: a session and a redirect to the same URL without
/// it, or the refusal. `None` when there is no such parameter (or no JWT is configured).
pub async fn exchange(state: &AppState, uri: &Uri, meta: &RequestMeta) -> Option<Response> {
    let tokens = state.security.host_tokens.as_deref()?;
    let query = uri.query()?;
    let pairs: Vec<(String, String)> = form_urlencoded(query);
    let token = pairs.iter().find(|(k, _)| k == "auth_token")?.1.clone();
    let verified = match verified(state, tokens, &token, meta, true).await {
        Ok(v) => v,
        Err(refused) => return Some(refused),
    };
    let session = match state
        .store
        .create_host_session(&verified.viewer, verified.expires_at)
        .await
    {
        Ok(s) => s,
        Err(e) => return Some(ApiError::from(e).into_response()),
    };
    record(state, recorded::host_signed_in(&verified.viewer), meta).await;
    let rest: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "auth_token")
        .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
        .collect();
    let target = if rest.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    };
    let max_age = (verified.expires_at - chrono::Utc::now().timestamp_millis()).max(0) / 1000;
    let secure = if meta.https { "; Secure" } else { "" };
    let cookie = format!(
        "{}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        auth::session_cookie_name(meta.https)
    );
    let mut response = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Some(response)
}

fn form_urlencoded(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .unwrap_or_default()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// The verified token, or the refusal: recorded and counted against the address like a wrong password, and a
/// 429 once the address is blocked. An exchange for a session (`check_block`) is refused while the address
/// is blocked, whatever the token; a valid bearer token is not a guess, and is not held up by a block.
async fn verified(
    state: &AppState,
    tokens: &HostTokens,
    token: &str,
    meta: &RequestMeta,
    check_block: bool,
) -> Result<crate::jwt::Verified, Response> {
    let now = chrono::Utc::now().timestamp_millis();
    let ip = meta.ip.clone().unwrap_or_else(|| "unknown".into());
    if check_block {
        match state.store.ip_blocked_until(&ip, now).await {
            Ok(Some(until)) => return Err(blocked(until - now)),
            Ok(None) => {}
            Err(e) => return Err(ApiError::from(e).into_response()),
        }
    }
    let refusal = match tokens.verify(token, now) {
        Ok(v) => return Ok(v),
        Err(r) => r,
    };
    let subject = claimed_subject(token);
    let policy = state.security.brute_force;
    let account = format!("jwt:{}", subject.as_deref().unwrap_or(""));
    match state.store.begin_sign_in(&ip, &account, now, policy).await {
        Ok(SignInAttempt::Blocked(until)) => return Err(blocked(until - now)),
        Ok(SignInAttempt::Judge { .. }) => {}
        Err(e) => return Err(ApiError::from(e).into_response()),
    }
    metrics::counter!("login_failures_total").increment(1);
    record(
        state,
        recorded::host_sign_in_refused(refusal.reason(), subject.as_deref()),
        meta,
    )
    .await;
    if let Ok(Some(until)) = state.store.sign_in_failed(&ip, now, policy).await {
        metrics::counter!("ips_blocked_total").increment(1);
        record(state, policy.blocked_event(&ip), meta).await;
        return Err(blocked(until - now));
    }
    Err(refused(refusal))
}

fn refused(refusal: Refusal) -> Response {
    ApiError::unauthorized(format!("the sign-in token was refused: {}", refusal.reason())).into_response()
}

fn blocked(retry_after_ms: i64) -> Response {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "sign-in from this address is blocked for a while after too many failures",
    );
    e.retry_after = Some(((retry_after_ms.max(0) + 999) / 1000) as u64);
    e.into_response()
}

async fn record(state: &AppState, event: NewEvent, meta: &RequestMeta) {
    let event = NewEvent {
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        ..event
    };
    if let Err(e) = state.store.record(event).await {
        tracing::error!(error = %e, "could not record a host sign-in event");
    }
}
