//! API tokens as listed (never the token itself) and their scopes.

use serde::{Deserialize, Serialize};

use super::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Ingest,
    Read,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "ingest" => Some(Scope::Ingest),
            "read" => Some(Scope::Read),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A set of scopes; `admin` includes the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes(pub Vec<Scope>);

impl Scopes {
    /// `ingest,read` → scopes; an unknown or missing scope is an error naming `scope`.
    pub fn parse(list: &str) -> Result<Self, FieldError> {
        let mut scopes = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let s = Scope::parse(part).ok_or_else(|| {
                FieldError::invalid("scope", format!("unknown scope `{part}` (use ingest, read, admin)"))
            })?;
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        if scopes.is_empty() {
            return Err(FieldError::invalid(
                "scope",
                "at least one scope is required (ingest, read, admin)",
            ));
        }
        Ok(Scopes(scopes))
    }

    pub fn allows(&self, needed: Scope) -> bool {
        self.0.contains(&needed) || self.0.contains(&Scope::Admin)
    }

    pub fn to_list(&self) -> String {
        self.0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// A token as listed: never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Scopes,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The tenant it ingests into and reads, or `None` for the whole log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_admin_includes_all() {
        let s = Scopes::parse("ingest, read,ingest").unwrap();
        assert_eq!(s.to_list(), "ingest,read");
        assert!(s.allows(Scope::Read) && !s.allows(Scope::Admin));
        assert!(Scopes::parse("admin").unwrap().allows(Scope::Ingest));
        assert_eq!(Scopes::parse("write").unwrap_err().field, "scope");
        assert_eq!(Scopes::parse("").unwrap_err().field, "scope");
    }
}
