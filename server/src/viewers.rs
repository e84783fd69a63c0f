//! Who is looking: the one seam through which whoever serves the tab says which person makes a request. The
//! access middleware asks it first (then a host's JWT, `host_sign_in`), puts the answer in the request as
//! `SessionUser`, and every page, server function and API route reads only that. The demo panel's own
//! sessions are one implementation (`PanelSessions`); a host with its own sign-in puts its own in
//! `AppState::viewers` and mounts `router::router` at a path of its choosing (README, "Embedding the tab").

use std::{future::Future, pin::Pin, sync::Arc};

use app::{model::User, store::AuditStore};
use axum::http::{Extensions, HeaderMap, Uri};

use crate::auth::session_cookie;

/// The person looking: id, name, email, role (`admin` reads the audit log) and, for a viewer of one
/// tenant's events, the tenant.
pub type Viewer = User;

/// What a request says about who makes it (its headers, cookies included, and what earlier middleware put in
/// its extensions). The URI is the one the router sees, without a base path.
#[derive(Clone, Copy)]
pub struct Asking<'a> {
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub extensions: &'a Extensions,
}

/// The person a request comes from, if anyone is signed in.
pub type Found<'a> = Pin<Box<dyn Future<Output = Option<Viewer>> + Send + 'a>>;

/// The seam: who is looking, decided by whoever serves the tab.
pub trait Viewers: Send + Sync + 'static {
    fn viewer<'a>(&'a self, asking: Asking<'a>) -> Found<'a>;
}

/// The demo panel's sign-in: its session cookie, of a panel user or of a person a host's JWT signed in.
pub struct PanelSessions(pub AuditStore);

impl Viewers for PanelSessions {
    fn viewer<'a>(&'a self, asking: Asking<'a>) -> Found<'a> {
        Box::pin(async move {
            let token = session_cookie(asking.headers)?;
            let found = match self.0.session_user(token).await {
                Ok(None) => self.0.host_session_viewer(token).await,
                other => other,
            };
            found.unwrap_or_else(|e| {
                tracing::error!(error = %e, "session lookup failed");
                None
            })
        })
    }
}

/// The seam as the state holds it.
pub type SharedViewers = Arc<dyn Viewers>;
