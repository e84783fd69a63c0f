//! Who put an event in the log (`recorded_by`): set by the server, never read from a caller.

use serde::{Deserialize, Serialize};

/// What recorded an event: an API token, a signed-in user's session (the panel's own events), an
/// `auditlog import` of a file, or the product itself.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecorderKind {
    Token,
    Session,
    Import,
    System,
}

impl RecorderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecorderKind::Token => "token",
            RecorderKind::Session => "session",
            RecorderKind::Import => "import",
            RecorderKind::System => "system",
        }
    }
}

/// `recorded_by` of the canonical JSON: `{"type", "id", "name"}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordedBy {
    #[serde(rename = "type")]
    pub kind: RecorderKind,
    pub id: String,
    pub name: String,
}

impl RecordedBy {
    /// The API token the event came in with.
    pub fn token(id: &str, name: &str) -> Self {
        Self::new(RecorderKind::Token, id, name)
    }

    /// The session of the signed-in user whose action the event records.
    pub fn session(user_id: &str, email: &str) -> Self {
        Self::new(RecorderKind::Session, user_id, email)
    }

    /// An `auditlog import` of `file`.
    pub fn import(file: &str) -> Self {
        Self::new(RecorderKind::Import, file, file)
    }

    /// The product itself (its command line, its background work, a failed sign-in).
    pub fn system() -> Self {
        Self::new(RecorderKind::System, "auditlog", "auditlog")
    }

    fn new(kind: RecorderKind, id: &str, name: &str) -> Self {
        RecordedBy {
            kind,
            id: id.into(),
            name: name.into(),
        }
    }

    /// How the detail dialog names it: `token mailserver (01J…)`.
    pub fn label(&self) -> String {
        if self.id == self.name {
            format!("{} {}", self.kind.as_str(), self.name)
        } else {
            format!("{} {} ({})", self.kind.as_str(), self.name, self.id)
        }
    }
}
