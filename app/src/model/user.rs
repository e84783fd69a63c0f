//! Panel users as the browser sees them.

use serde::{Deserialize, Serialize};

use super::{Actor, ActorType};

/// True for what a panel user's email may be (already trimmed): a local part and a domain around an `@`, no
/// white space, at most 254 bytes.
pub fn is_email_address(email: &str) -> bool {
    email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees and exports the audit log.
    Admin,
    /// A delegated user of the larger panel: never sees the audit log.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A panel user; never the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The one tenant this person sees (a host's viewer of one customer), or `None` for the whole log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// An admin of the whole log (not one tenant's): who may change its settings.
    pub fn is_log_admin(&self) -> bool {
        self.is_admin() && self.tenant.is_none()
    }

    /// How this user appears in the events they cause.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: ActorType::User,
            id: Some(self.id.clone()),
            name: (!self.name.is_empty()).then(|| self.name.clone()),
            email: Some(self.email.clone()),
        }
    }
}
