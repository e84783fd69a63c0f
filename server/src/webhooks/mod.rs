//! Webhooks: the endpoints' API (`/api/v1/webhooks`, scope `admin`), the destination policy, signing and
//! sending, and the deliverers that run beside the server.

pub mod deliver;
pub mod destination;
pub mod send;

use app::{
    api::WebhookDelivery,
    model::{
        FieldError, time,
        webhook::{Delivery, Webhook, WebhookPatch, WebhookSettings},
    },
    store::{Attempt, AuditStore, Changer, PendingEvent, Scope, StoreError},
};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde_json::{Value, json};

pub use self::{deliver::DeliveryConfig, destination::Destinations, send::Sender};
use crate::{
    auth::{Caller, Principal},
    error::ApiError,
    state::AppState,
};

/// The time a receiver has to answer one attempt.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn changer(principal: &Principal) -> Changer {
    Changer {
        actor: principal.actor(),
        by: principal.recorder(),
        finish: Box::new(|e| e),
    }
}

fn patch_of(body: &Bytes) -> Result<WebhookPatch, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "invalid_webhook",
            "body",
            "the body must be a JSON object such as {\"url\": \"https://…\"}",
        )
    })?;
    WebhookPatch::from_json(&value).map_err(invalid)
}

fn invalid(e: FieldError) -> ApiError {
    ApiError::bad_request("invalid_webhook", e.field.clone(), e.to_string())
}

/// `GET /api/v1/webhooks`: every endpoint (never a secret).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "`{\"webhooks\": [...]}`: every endpoint, never a secret", body = WebhookList),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(json!({ "webhooks": state.store.list_webhooks().await? })))
}

/// `POST /api/v1/webhooks` with `{"url", "description", "actions", "outcome", "format", "enabled"}` (only
/// `url` required): 201 with the endpoint and its `secret`, which no later response shows.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    request_body = WebhookInput,
    responses(
        (status = 201, description = "The endpoint, with its `secret` (`whsec_…`) shown this once", body = CreatedWebhook),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::Unavailable
    )
)]
pub async fn create(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    let patch = patch_of(&body)?;
    if patch.url.is_none() {
        return Err(ApiError::bad_request("invalid_webhook", "url", "url: is required"));
    }
    let settings = patch.apply(&WebhookSettings::default()).checked().map_err(invalid)?;
    state
        .webhooks
        .destinations()
        .check(&settings.url)
        .await
        .map_err(invalid)?;
    let (webhook, secret) = state.store.create_webhook(settings, changer(&principal)).await?;
    let mut body = serde_json::to_value(&webhook).unwrap_or_default();
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/v1/webhooks/{id}`: the endpoint and its recent `deliveries`, the latest first.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint and its last 50 attempts, the latest first", body = WebhookWithDeliveries),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let webhook = state.store.webhook(&id).await?;
    let deliveries = state.store.webhook_deliveries(&id).await?;
    let mut body = serde_json::to_value(&webhook).unwrap_or_default();
    body["deliveries"] = json!(deliveries);
    Ok(Json(body))
}

/// `PATCH /api/v1/webhooks/{id}`: the fields given replace the endpoint's.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body = WebhookInput,
    responses(
        (status = 200, description = "The endpoint as changed", body = Webhook),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Webhook>, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    let patch = patch_of(&body)?;
    if let Some(url) = &patch.url {
        state.webhooks.destinations().check(url.trim()).await.map_err(invalid)?;
    }
    Ok(Json(state.store.update_webhook(&id, patch, changer(&principal)).await?))
}

/// `DELETE /api/v1/webhooks/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed, with its deliveries"),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    state.store.delete_webhook(&id, changer(&principal)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/webhooks/{id}/rotate-secret`: `{"secret": "whsec_…"}`, shown this once; the previous
/// secret signs too for 24 hours.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "`{\"secret\": \"whsec_…\"}`, shown this once", body = Object),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    let secret = state.store.rotate_webhook_secret(&id, changer(&principal)).await?;
    Ok(Json(json!({ "secret": secret })))
}

/// `POST /api/v1/webhooks/{id}/replay` with `{"from": "2026-12-01T00:00:00Z"}`: every matching event
/// received since then is delivered again, in order.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/replay",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body(content = ReplayFrom),
    responses(
        (status = 200, description = "The endpoint, about to deliver again from that time", body = Webhook),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Webhook>, ApiError> {
    let principal = caller.require(Scope::Admin)?;
    let bad = || {
        ApiError::bad_request(
            "invalid_webhook",
            "from",
            "from: must be a time such as 2026-12-01T00:00:00Z",
        )
    };
    let value: Value = serde_json::from_slice(&body).map_err(|_| bad())?;
    let from = value
        .get("from")
        .and_then(Value::as_str)
        .and_then(time::parse_rfc3339)
        .ok_or_else(bad)?;
    Ok(Json(
        state
            .store
            .replay_webhook(&id, from.timestamp_millis(), changer(&principal))
            .await?,
    ))
}

/// `POST /api/v1/webhooks/{id}/test`: sends a `webhook.test` event now, outside the queue, and answers how
/// the attempt went (it is listed with the deliveries too).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "How the attempt went", body = Delivery),
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        crate::openapi::NotFound,
        crate::openapi::Unavailable
    )
)]
pub async fn send_test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(state.webhooks.send_test(&state.store, &id).await?))
}

impl Sender {
    /// Sends a `webhook.test` event to endpoint `id` now, outside its queue, and records the attempt with its
    /// deliveries.
    pub async fn send_test(&self, store: &AuditStore, id: &str) -> Result<Delivery, StoreError> {
        let target = store.webhook_target(id).await?;
        let event = test_event();
        let (message_id, body) = send::message(&event, target.settings.format);
        let sent = self
            .send(&target.settings.url, &target.secrets, &message_id, body)
            .await;
        let attempt = Attempt {
            event_id: event.id.clone(),
            attempt: 1,
            at: chrono::Utc::now().timestamp_millis(),
            status: sent.status(),
            latency_ms: sent.latency.as_millis() as u64,
            error: sent.error(),
        };
        store.record_webhook_attempts(id, vec![attempt.clone()]).await?;
        Ok(Delivery {
            event_id: attempt.event_id,
            attempt: 1,
            at: time::format_millis(attempt.at),
            status: attempt.status,
            latency_ms: attempt.latency_ms,
            error: attempt.error,
        })
    }
}

/// What the Settings tab's webhook server functions ask of the server.
impl WebhookDelivery for Sender {
    fn check_url<'a>(&'a self, url: &'a str) -> Boxed<'a, Result<(), FieldError>> {
        let destinations = self.destinations();
        Box::pin(async move { destinations.check(url).await })
    }

    fn send_test<'a>(&'a self, store: &'a AuditStore, id: &'a str) -> Boxed<'a, Result<Delivery, StoreError>> {
        Box::pin(Sender::send_test(self, store, id))
    }
}

type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A `webhook.test` event, not stored: what a receiver can check its verification against.
fn test_event() -> PendingEvent {
    let id = ulid::Ulid::new().to_string();
    let timestamp = time::format_millis(chrono::Utc::now().timestamp_millis());
    let json = json!({
        "id": id,
        "timestamp": timestamp,
        "received_at": timestamp,
        "action": "webhook.test",
        "outcome": "success",
        "actor": {"type": "system", "name": "auditlog"},
        "source": "auditlog",
        "details": {"test": true},
    });
    PendingEvent {
        seq: 0,
        received_at: chrono::Utc::now().timestamp_millis(),
        chat: format!("{timestamp} auditlog webhook.test success (a test event: the endpoint works)"),
        id,
        action: "webhook.test".into(),
        outcome: "success".into(),
        timestamp,
        json: json.to_string(),
    }
}

/// `GET /api/v1/webhooks`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the answer, which is built with `json!`
pub struct WebhookList {
    webhooks: Vec<Webhook>,
}

/// The body of `POST` (where `url` is required) and `PATCH` (every field optional).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the body; the handler reads it with `WebhookPatch::from_json`
pub struct WebhookInput {
    /// `https://…` (`http://` and internal addresses only with `AUDITLOG_WEBHOOK_ALLOW_PRIVATE=1`).
    url: Option<String>,
    description: Option<String>,
    /// `*` (the default), a category's `auth.*`, an action `user.delete`.
    actions: Option<Vec<String>>,
    outcome: Option<app::model::webhook::OutcomeFilter>,
    format: Option<app::model::webhook::WebhookFormat>,
    enabled: Option<bool>,
}

/// The body of `POST /api/v1/webhooks/{id}/replay`: `{"from": "2026-12-01T00:00:00Z"}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the body; the handler reads `from` itself, to name it in its error
pub struct ReplayFrom {
    /// Every matching event received since this time is delivered again, in order.
    #[schema(format = DateTime, example = "2026-12-01T00:00:00Z")]
    from: String,
}

/// `POST /api/v1/webhooks`: the endpoint and its secret.
#[derive(utoipa::ToSchema, serde::Serialize)]
#[allow(dead_code)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    webhook: Webhook,
    /// `whsec_` and the base64 of 32 random bytes: keep it, it is not shown again.
    secret: String,
}

/// `GET /api/v1/webhooks/{id}`.
#[derive(utoipa::ToSchema, serde::Serialize)]
#[allow(dead_code)]
pub struct WebhookWithDeliveries {
    #[serde(flatten)]
    webhook: Webhook,
    deliveries: Vec<Delivery>,
}
