//! Who is calling: a bearer token (scripts) or a session cookie (the browser). `Caller` resolves both;
//! `Caller::require` turns "may they" into 401 (no valid credentials) or 403 (wrong role or scope).

use std::net::{IpAddr, SocketAddr};

use app::{
    model::{Actor, ActorType, User},
    store::{ApiToken, Scope},
};
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};

use crate::{error::ApiError, state::AppState};

pub const SESSION_COOKIE: &str = "auditlog_session";

/// An authenticated caller.
#[derive(Clone, Debug)]
pub enum Principal {
    Token(ApiToken),
    User(User),
}

impl Principal {
    /// How the caller appears in the events it causes: a token acts as itself, never as its creator.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Token(t) => Actor {
                kind: ActorType::ApiToken,
                id: Some(t.id.clone()),
                name: Some(t.name.clone()),
                email: None,
            },
            Principal::User(u) => u.actor(),
        }
    }
}

pub use app::api::guard::SessionUser;

/// The caller of an API request, whichever way it authenticated.
pub struct Caller {
    resolved: Result<Option<Principal>, ApiError>,
}

impl Caller {
    /// The principal, when it may act with `needed`. A signed-in admin has every scope; a viewer none.
    pub fn require(self, needed: Scope) -> Result<Principal, ApiError> {
        match self.resolved? {
            None => Err(ApiError::unauthorized(
                "credentials required: sign in, or send `Authorization: Bearer <token>`",
            )),
            Some(Principal::Token(t)) if t.scopes.allows(needed) => Ok(Principal::Token(t)),
            Some(Principal::Token(_)) => Err(ApiError::forbidden(format!(
                "this token lacks the `{}` scope",
                needed.as_str()
            ))),
            Some(Principal::User(u)) if u.is_admin() => Ok(Principal::User(u)),
            Some(Principal::User(_)) => Err(ApiError::forbidden("the audit log is for admins only")),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let resolved = match bearer(&parts.headers) {
            Some(token) => match state.store.find_token(token).await {
                Ok(Some(t)) if t.revoked_at.is_some() => Err(ApiError::unauthorized("this token has been revoked")),
                Ok(Some(t)) => Ok(Some(Principal::Token(t))),
                Ok(None) => Err(ApiError::unauthorized("unknown token")),
                Err(e) => Err(e.into()),
            },
            None => Ok(parts
                .extensions
                .get::<SessionUser>()
                .and_then(|s| s.0.clone())
                .map(Principal::User)),
        };
        Ok(Caller { resolved })
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The value of the session cookie, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop before our trusted proxies
/// when (and only when) the peer is one of them.
pub fn client_ip(parts_headers: &HeaderMap, peer: Option<SocketAddr>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts_headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

/// The peer address axum recorded, when served with connect info.
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.9, 10.0.0.2".parse().unwrap());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(proxy, 443);
        let trusted = [proxy, "10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_ip(&h, Some(peer), &trusted),
            Some("198.51.100.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(&h, Some(peer), &[]),
            Some(proxy),
            "untrusted peer: header ignored"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; auditlog_session=xyz; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("xyz"));
    }
}
