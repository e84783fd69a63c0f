//! One delivery attempt: the body in the endpoint's format, the Standard Webhooks 1.0 headers and
//! signatures, the POST, and what came of it.

use std::time::{Duration, Instant};

use app::{model::webhook::WebhookFormat, store::PendingEvent};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::destination::Destinations;

/// At most this much of an answer's body is read (and thrown away): enough to reuse the connection for a
/// short answer, never a way to fill our memory.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A 2xx.
    Delivered(u16),
    /// 410 Gone: the receiver wants no more.
    Gone,
    /// Anything else: another status, a timeout, a connection that failed. Retried.
    Failed { status: Option<u16>, error: String },
}

/// An attempt's answer and how long it took.
#[derive(Clone, Debug)]
pub struct Sent {
    pub answer: Answer,
    pub latency: Duration,
}

impl Sent {
    pub fn status(&self) -> Option<u16> {
        match &self.answer {
            Answer::Delivered(s) => Some(*s),
            Answer::Gone => Some(410),
            Answer::Failed { status, .. } => *status,
        }
    }

    pub fn error(&self) -> Option<String> {
        match &self.answer {
            Answer::Delivered(_) => None,
            Answer::Gone => Some("410 Gone".into()),
            Answer::Failed { error, .. } => Some(error.clone()),
        }
    }
}

/// The message of one event: its id (the `webhook-id`) and the body in the endpoint's format.
pub fn message(event: &PendingEvent, format: WebhookFormat) -> (String, String) {
    let body = match format {
        WebhookFormat::Standard => format!(
            "{{\"type\":{},\"timestamp\":{},\"data\":{}}}",
            serde_json::Value::from(event.action.as_str()),
            serde_json::Value::from(event.timestamp.as_str()),
            event.json
        ),
        WebhookFormat::Chat => serde_json::json!({ "text": event.chat }).to_string(),
    };
    (event.id.clone(), body)
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each secret
/// (`whsec_<base64 key>`), space-separated.
pub fn signature(secrets: &[String], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|secret| {
            let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body.as_bytes());
            Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The HTTP client of every delivery: no redirects (a redirect is an answer other than 2xx), the
/// destination policy in its resolver, a timeout per attempt.
#[derive(Clone, Debug)]
pub struct Sender {
    client: reqwest::Client,
    destinations: Destinations,
}

impl Sender {
    pub fn new(destinations: Destinations, timeout: Duration) -> Sender {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .dns_resolver(std::sync::Arc::new(destinations))
            .user_agent(concat!("auditlog-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Sender { client, destinations }
    }

    pub fn destinations(&self) -> Destinations {
        self.destinations
    }

    /// POSTs `body` to `url`, signed with `secrets`.
    pub async fn send(&self, url: &str, secrets: &[String], id: &str, body: String) -> Sent {
        let started = Instant::now();
        let answer = self.attempt(url, secrets, id, body).await;
        Sent {
            answer,
            latency: started.elapsed(),
        }
    }

    async fn attempt(&self, url: &str, secrets: &[String], id: &str, body: String) -> Answer {
        let failed = |error: String| Answer::Failed { status: None, error };
        // An IP in the URL is connected to without the resolver: it is checked here.
        if let Err(e) = self.check_literal(url) {
            return failed(e);
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature(secrets, id, timestamp, &body);
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return failed("timed out".into()),
            Err(e) => return failed(format!("could not connect: {}", root_cause(&e))),
        };
        let status = response.status().as_u16();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        match status {
            200..=299 => Answer::Delivered(status),
            410 => Answer::Gone,
            _ => Answer::Failed {
                status: Some(status),
                error: format!("HTTP {status}"),
            },
        }
    }

    fn check_literal(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        let host = parsed
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        let Ok(ip) = host.parse::<std::net::IpAddr>() else {
            return Ok(());
        };
        if self.destinations.allow_private || super::destination::is_public(ip) {
            Ok(())
        } else {
            Err(format!("{ip} is an internal address"))
        }
    }
}

/// The innermost cause of a client error (`connection refused`), which is what an admin can act on.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
