//! Who is calling: a bearer token (scripts) or a session cookie (the browser). `Caller` resolves both;
//! `Caller::require` turns "may they" into 401 (no valid credentials) or 403 (wrong role or scope).

use std::net::{IpAddr, SocketAddr};

use app::{
    model::{Actor, ActorType, RecordedBy, User},
    store::{ApiToken, Scope},
};
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};

use crate::{error::ApiError, state::AppState};

pub const SESSION_COOKIE: &str = "auditlog_session";
/// The session cookie's name over https: the `__Host-` prefix makes the browser keep it to this host, on path
/// `/`, sent only over https (a subdomain cannot plant or overwrite it).
pub const SECURE_SESSION_COOKIE: &str = "__Host-auditlog_session";

/// The session cookie's name for a response over https or not.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

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

    /// The caller as a key for what is limited per caller (exports): its token, or its user.
    pub fn key(&self) -> String {
        match self {
            Principal::Token(t) => format!("token:{}", t.id),
            Principal::User(u) => format!("user:{}", u.id),
        }
    }

    /// The one tenant the caller is bound to (a token's, or a host's viewer's), or `None` for the whole log.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Principal::Token(t) => t.tenant.as_deref(),
            Principal::User(u) => u.tenant.as_deref(),
        }
    }

    /// Who records the events it sends or causes: its token, or the signed-in user's session.
    pub fn recorder(&self) -> RecordedBy {
        match self {
            Principal::Token(t) => RecordedBy::token(&t.id, &t.name),
            Principal::User(u) => RecordedBy::session(&u.id, &u.email),
        }
    }
}

pub use app::api::guard::SessionUser;

/// The caller of an API request, whichever way it authenticated.
pub struct Caller {
    resolved: Result<Option<Principal>, ApiError>,
}

impl Caller {
    /// The principal, when it may act with `needed`. A signed-in admin has every scope; a viewer none. The
    /// `admin` scope (the log's settings, webhooks) is for callers of the whole log, never one tenant's.
    pub fn require(self, needed: Scope) -> Result<Principal, ApiError> {
        let principal = self.permitted(needed)?;
        if needed == Scope::Admin && principal.tenant().is_some() {
            return Err(ApiError::forbidden(
                "this is for callers of the whole log, not of one tenant",
            ));
        }
        Ok(principal)
    }

    /// `require` without regard to a tenant.
    fn permitted(self, needed: Scope) -> Result<Principal, ApiError> {
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
            // A host's JWT: the access middleware verified it and put the person it stands for in the request.
            Some(jwt) if state.security.host_tokens.is_some() && crate::jwt::looks_like_jwt(jwt) => Ok(parts
                .extensions
                .get::<SessionUser>()
                .and_then(|s| s.0.clone())
                .map(Principal::User)),
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

/// The credential of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
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
        .find(|(name, _)| *name == SECURE_SESSION_COOKIE || *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// An address as one host: an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports
/// for an IPv4 peer) is that IPv4 address.
fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// True for a proxy whose forwarding headers are believed: one of `trusted`, or this host itself (a reverse
/// proxy on the same machine, the usual setup, needs no configuration, and cannot then make every client
/// look like one address).
fn is_trusted(ip: IpAddr, trusted: &[IpAddr]) -> bool {
    let ip = plain(ip);
    ip.is_loopback() || trusted.iter().any(|t| plain(*t) == ip)
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop before our trusted proxies
/// when (and only when) the peer is one of them.
pub fn client_ip(parts_headers: &HeaderMap, peer: Option<SocketAddr>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = plain(peer?.ip());
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts_headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .map(plain)
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(*ip, trusted))
            .unwrap_or(peer),
    )
}

/// True when the request came over https: a trusted proxy says so in `X-Forwarded-Proto` (its first value,
/// in any case: `HTTPS`, `https, http`).
pub fn came_over_https(headers: &HeaderMap, peer: Option<SocketAddr>, trusted: &[IpAddr]) -> bool {
    let from_proxy = peer.is_some_and(|p| is_trusted(p.ip(), trusted));
    from_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
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
    fn a_proxy_on_this_host_and_mapped_addresses_need_no_configuration() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.9".parse().unwrap());
        let local = SocketAddr::new("127.0.0.1".parse().unwrap(), 50_000);
        assert_eq!(client_ip(&h, Some(local), &[]), Some("198.51.100.9".parse().unwrap()));
        let mapped = SocketAddr::new("::ffff:10.0.0.1".parse().unwrap(), 50_000);
        let trusted: [IpAddr; 1] = ["10.0.0.1".parse().unwrap()];
        assert_eq!(
            client_ip(&h, Some(mapped), &trusted),
            Some("198.51.100.9".parse().unwrap())
        );
        let direct = SocketAddr::new("::ffff:203.0.113.5".parse().unwrap(), 50_000);
        assert_eq!(
            client_ip(&h, Some(direct), &trusted),
            Some("203.0.113.5".parse().unwrap())
        );
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy_in_any_case() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "HTTPS, http".parse().unwrap());
        let local = SocketAddr::new("127.0.0.1".parse().unwrap(), 50_000);
        let stranger = SocketAddr::new("203.0.113.5".parse().unwrap(), 50_000);
        assert!(came_over_https(&h, Some(local), &[]));
        assert!(!came_over_https(&h, Some(stranger), &[]));
        h.insert("x-forwarded-proto", "http".parse().unwrap());
        assert!(!came_over_https(&h, Some(local), &[]));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; auditlog_session=xyz; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("xyz"));
        h.insert(header::COOKIE, "__Host-auditlog_session=abc".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("abc"));
    }
}
