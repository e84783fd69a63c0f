//! Who is calling, and may they: bearer tokens with scopes. 401 without valid credentials, 403 with the
//! wrong scope. Every audit endpoint goes through `authorize`.

use app::{
    model::{Actor, ActorType},
    store::{ApiToken, Scope},
};
use axum::http::{HeaderMap, header};

use crate::{error::ApiError, state::AppState};

/// An authenticated caller.
#[derive(Clone, Debug)]
pub enum Principal {
    Token(ApiToken),
}

impl Principal {
    /// How the caller appears in the events it causes: a token acts as itself.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Token(t) => Actor {
                kind: ActorType::ApiToken,
                id: Some(t.id.clone()),
                name: Some(t.name.clone()),
                email: None,
            },
        }
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

pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    needed: Scope,
) -> Result<Principal, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::unauthorized(
            "credentials required: send `Authorization: Bearer <token>`",
        ));
    };
    let found = state.store.find_token(token).await?;
    match found {
        Some(t) if t.revoked_at.is_some() => {
            Err(ApiError::unauthorized("this token has been revoked"))
        }
        Some(t) if t.scopes.allows(needed) => Ok(Principal::Token(t)),
        Some(_) => Err(ApiError::forbidden(format!(
            "this token lacks the `{}` scope",
            needed.as_str()
        ))),
        None => Err(ApiError::unauthorized("unknown token")),
    }
}
