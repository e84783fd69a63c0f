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

/// What a server function answers when it refuses: the HTTP API's error shape,
/// `{"error": {"code": "…", "message": "…", "field": "…"}}`, with the status the server sets beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", error.message)]
pub struct AppError {
    pub error: ErrorBody,
}

/// The body of `AppError`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        AppError {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
                field: None,
            },
        }
    }

    /// The message a person reads.
    pub fn message(&self) -> &str {
        &self.error.message
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError {
            error: ErrorBody {
                message: e.to_string(),
                code: e.code,
                field: Some(e.field),
            },
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    /// What the server-function machinery itself fails with: arguments it cannot read are the caller's
    /// mistake; a server that cannot be reached is the browser's to say.
    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        let code = match &value {
            E::Args(_) | E::MissingArg(_) => "invalid_request",
            E::Request(_) => "unreachable",
            E::Deserialization(_) | E::Serialization(_) => "invalid_response",
            _ => "server_error",
        };
        let mut e = AppError::new(code, value.to_string());
        // serde names the argument it could not read: "missing field `name`".
        e.error.field = value
            .to_string()
            .split_once("field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(field, _)| field.to_string());
        e
    }
}
