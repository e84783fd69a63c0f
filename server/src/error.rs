//! The API's error: a 4xx (or an opaque 503) with the JSON shape of spec/api.md,
//! `{"error": {"code": "…", "message": "…", "field": "…"}}`.

use app::{model::FieldError, store::StoreError};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, code, message);
        e.field = Some(field.into());
        e
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let code = if e.code == "invalid_filter" {
            "invalid_filter"
        } else {
            "invalid_event"
        };
        ApiError::bad_request(code, e.field.clone(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(f) => f.into(),
            StoreError::NotFound => ApiError::not_found("no such record"),
            StoreError::TooManyExports(limit) => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_exports",
                    format!("at most {limit} exports at once per token or user: wait for one to finish"),
                );
                e.retry_after = Some(10);
                e
            }
            full if full.is_storage_full() => {
                tracing::error!(error = %full, "the disk holding the database is full");
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_full",
                    "the disk holding the audit log is full: nothing of this request was stored; send it again \
                     once there is room",
                );
                e.retry_after = Some(30);
                e
            }
            other => {
                // The cause goes to the log; the client learns only that the store is unavailable.
                tracing::error!(error = %other, "store failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the audit store is unavailable",
                )
            }
        }
    }
}

/// The body of every error of the API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// What kind of error, for programs: `unauthorized`, `forbidden`, `not_found`, `invalid_event`,
    /// `invalid_filter`, `invalid_parameter`, `invalid_setting`, `invalid_json`, `payload_too_large`,
    /// `unavailable`, ...
    pub code: &'static str,
    /// What is wrong, for people; it names the field.
    pub message: String,
    /// The field or parameter at fault, when there is one (`events[3].actor.type`, `page_size`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
