//! The validation error: what is wrong and which field it concerns, as the API's error JSON names it.

use serde::{Deserialize, Serialize};

/// A rejected value. `field` is the path of the offending field (`actor.type`, `events[3].ip`, `page_size`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub code: String,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: "invalid_field".into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn filter(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: "invalid_filter".into(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, located under a parent path (`actor` + `type` = `actor.type`; `events[2]` + `ip`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}
