//! The Settings tab's `Webhooks` section (admins): add an endpoint (its secret shown once), enable or
//! disable it, remove it, rotate its secret, send a test event, replay from a time, and see its recent
//! deliveries. Sending needs an HTTP client, which the host provides: it puts a `Webhooks` in the context
//! (the server does, with the same client and destination policy as its deliverers).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{
    AppError,
    webhook::{Delivery, Webhook},
};

/// An endpoint as the Settings tab lists it: with its recent attempts, the latest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEntry {
    pub webhook: Webhook,
    pub deliveries: Vec<Delivery>,
}

#[cfg(feature = "ssr")]
pub use seam::{WebhookDelivery, Webhooks};

#[cfg(feature = "ssr")]
mod seam {
    use std::{future::Future, pin::Pin, sync::Arc};

    use crate::{
        model::{FieldError, webhook::Delivery},
        store::{AuditStore, StoreError},
    };

    /// A boxed future, as a trait object's methods return them.
    pub type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// What the host does for the webhook server functions: check a URL against its destination policy (the
    /// error names `url`), and send a test event to an endpoint now (the attempt recorded with its
    /// deliveries).
    pub trait WebhookDelivery: Send + Sync + 'static {
        fn check_url<'a>(&'a self, url: &'a str) -> Boxed<'a, Result<(), FieldError>>;
        fn send_test<'a>(&'a self, store: &'a AuditStore, id: &'a str) -> Boxed<'a, Result<Delivery, StoreError>>;
    }

    /// The host's `WebhookDelivery`, as the context holds it.
    #[derive(Clone)]
    pub struct Webhooks(pub Arc<dyn WebhookDelivery>);
}

#[cfg(feature = "ssr")]
fn delivery() -> Result<Webhooks, AppError> {
    use_context::<Webhooks>().ok_or_else(|| {
        super::guard::refuse(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "webhooks are not available in this panel",
        )
    })
}

/// Who changes an endpoint from the panel: the signed-in admin, with the request's address and browser.
#[cfg(feature = "ssr")]
fn changer(by: &crate::model::User) -> crate::store::Changer {
    let meta = super::guard::request_meta();
    crate::store::Changer {
        actor: by.actor(),
        by: crate::model::RecordedBy::session(&by.id, &by.email),
        finish: Box::new(move |e| super::guard::panel_event(e, &meta)),
    }
}

#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookEntry>, AppError> {
    let (store, _) = super::guard::admin()?;
    let mut entries = Vec::new();
    for webhook in store.list_webhooks().await.map_err(super::guard::opaque)? {
        let deliveries = store
            .webhook_deliveries(&webhook.id)
            .await
            .map_err(super::guard::opaque)?;
        entries.push(WebhookEntry { webhook, deliveries });
    }
    Ok(entries)
}

/// Adds an endpoint from the form (`actions`: one pattern per line; `enabled`: the checkbox, present when
/// ticked); returns its secret, shown this once.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "add_webhook")]
pub async fn add_webhook(
    url: String,
    description: String,
    actions: String,
    outcome: String,
    format: String,
    enabled: Option<String>,
) -> Result<String, AppError> {
    use crate::model::{
        FieldError,
        webhook::{OutcomeFilter, WebhookFormat, WebhookSettings},
    };
    let (store, by) = super::guard::admin()?;
    let bad = super::guard::bad_input;
    let settings = WebhookSettings {
        url,
        description,
        actions: actions.lines().map(str::to_string).collect(),
        outcome: OutcomeFilter::parse(&outcome)
            .ok_or_else(|| bad(FieldError::invalid("outcome", "must be any, success or failure")))?,
        format: WebhookFormat::parse(&format)
            .ok_or_else(|| bad(FieldError::invalid("format", "must be standard or chat")))?,
        enabled: enabled.is_some(),
    }
    .checked()
    .map_err(bad)?;
    delivery()?.0.check_url(&settings.url).await.map_err(bad)?;
    let (_, secret) = store
        .create_webhook(settings, changer(&by))
        .await
        .map_err(super::guard::opaque)?;
    Ok(secret)
}

/// What one of an endpoint's buttons did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WebhookOutcome {
    /// Enabled, disabled, removed or replayed; the sentence says which.
    Done(String),
    /// A new secret, shown this once.
    Rotated(String),
    /// How the test event's attempt went.
    Tested(Delivery),
}

/// One of an endpoint's buttons, named by `act`: `enable`, `disable`, `remove`, `rotate` (a new secret,
/// shown this once; the previous one signs too for 24 hours), `test` (a `webhook.test` event sent now), or
/// `replay` (every matching event received since `from`, a UTC date and time as the form's `datetime-local`
/// sends it, or RFC 3339, delivered again in order). One server function for all of them: each one more would
/// add its own code to the browser's WASM.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "webhook_action")]
pub async fn webhook_action(id: String, act: String, from: Option<String>) -> Result<WebhookOutcome, AppError> {
    use crate::model::{FieldError, webhook::WebhookPatch};
    let (store, by) = super::guard::admin()?;
    let opaque = super::guard::opaque;
    let enable = |on: bool| WebhookPatch {
        enabled: Some(on),
        ..WebhookPatch::default()
    };
    let done = |what: &str| Ok(WebhookOutcome::Done(what.to_string()));
    match act.as_str() {
        "enable" | "disable" => {
            let on = act == "enable";
            store
                .update_webhook(&id, enable(on), changer(&by))
                .await
                .map_err(opaque)?;
            done(if on { "Endpoint enabled." } else { "Endpoint disabled." })
        }
        "remove" => {
            store.delete_webhook(&id, changer(&by)).await.map_err(opaque)?;
            done("Endpoint removed.")
        }
        "rotate" => {
            let secret = store.rotate_webhook_secret(&id, changer(&by)).await.map_err(opaque)?;
            Ok(WebhookOutcome::Rotated(secret))
        }
        "test" => Ok(WebhookOutcome::Tested(
            delivery()?.0.send_test(&store, &id).await.map_err(opaque)?,
        )),
        "replay" => {
            let from = crate::model::query::parse_start("from", from.as_deref().unwrap_or(""))
                .map_err(super::guard::bad_input)?;
            store.replay_webhook(&id, from, changer(&by)).await.map_err(opaque)?;
            done("Replay started: the matching events since then are delivered again, in order.")
        }
        other => Err(super::guard::bad_input(FieldError::invalid(
            "act",
            format!("`{other}` is not enable, disable, remove, rotate, test or replay"),
        ))),
    }
}
