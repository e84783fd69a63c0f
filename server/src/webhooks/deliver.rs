//! The deliverers: one task per enabled endpoint, each reading the events after its cursor in commit order and
//! sending the matching ones one at a time (so that they arrive in order), retrying the head of its queue
//! with backoff until it is delivered or the endpoint is disabled. They start again whenever an endpoint
//! changes.

use std::time::{Duration, Instant};

use app::store::{Attempt, AuditStore, PendingEvent, Progress, Retry, WebhookTarget};
use rand::Rng;
use tokio::sync::watch;

use super::send::{Answer, Sender, message};

/// How deliveries are paced.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// The wait before each retry of an event, by attempt; the last repeats.
    pub backoff: Vec<Duration>,
    /// An endpoint failing this long is disabled.
    pub give_up_after: Duration,
    /// Events read from the log at a time.
    pub batch: i64,
    /// Progress is saved at least this often while events are delivered (and at once after a failure):
    /// after a crash, at most this much is delivered again.
    pub save_every: Duration,
    /// The pause before each batch while events are being ingested.
    pub yield_while_ingesting: Duration,
}

impl Default for DeliveryConfig {
    /// About 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h, for 3 days.
    fn default() -> Self {
        let m = |minutes: u64| Duration::from_secs(minutes * 60);
        DeliveryConfig {
            backoff: vec![Duration::from_secs(5), m(5), m(30), m(120), m(300), m(600)],
            give_up_after: Duration::from_secs(3 * 24 * 3_600),
            batch: 256,
            save_every: Duration::from_secs(1),
            yield_while_ingesting: Duration::from_millis(25),
        }
    }
}

impl DeliveryConfig {
    /// The wait after the `attempts`-th failed attempt, give or take a fifth (jitter, so that endpoints that
    /// failed together do not retry together).
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let i = (attempts.max(1) as usize - 1).min(self.backoff.len().saturating_sub(1));
        let base = self.backoff.get(i).copied().unwrap_or(Duration::from_secs(5));
        base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }
}

/// Runs the deliverers until the process ends: one per enabled endpoint. When any endpoint changes, every
/// deliverer finishes its attempt, saves how far it got and stops; then they start again from what is stored
/// (a secret, a pattern or a replay applies to the very next attempt).
pub async fn run(store: AuditStore, sender: Sender, config: DeliveryConfig) {
    let mut changed = store.webhooks_changed();
    loop {
        changed.borrow_and_update();
        let targets = match store.webhook_targets().await {
            Ok(targets) => targets,
            Err(e) => {
                tracing::error!(error = %e, "reading the webhook endpoints failed; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let running: Vec<_> = targets
            .into_iter()
            .map(|target| {
                let endpoint = Endpoint::new(store.clone(), sender.clone(), config.clone(), target);
                tokio::spawn(endpoint.run(changed.clone()))
            })
            .collect();
        // A deliverer ends only when it is disabled (which is a change) or on a change.
        if changed.changed().await.is_err() {
            // The store is gone.
            return;
        }
        for task in running {
            let _ = task.await;
        }
    }
}

/// One endpoint's deliverer.
struct Endpoint {
    store: AuditStore,
    sender: Sender,
    config: DeliveryConfig,
    target: WebhookTarget,
    /// Progress not saved yet.
    progress: Progress,
    dirty: bool,
    saved_at: Instant,
}

/// What came of delivering an event.
enum Next {
    Delivered,
    Disabled,
    /// An endpoint changed before it was delivered: the deliverer stops, to start again as configured now.
    Changed,
}

impl Endpoint {
    fn new(store: AuditStore, sender: Sender, config: DeliveryConfig, target: WebhookTarget) -> Endpoint {
        let progress = Progress {
            cursor: target.cursor,
            retry: target.retry,
            ..Progress::default()
        };
        Endpoint {
            store,
            sender,
            config,
            target,
            progress,
            dirty: false,
            saved_at: Instant::now(),
        }
    }

    /// Delivers until the endpoint is disabled, or `changed` says an endpoint changed (after saving).
    async fn run(mut self, mut changed: watch::Receiver<u64>) {
        let mut committed = self.store.committed_events();
        loop {
            if changed.has_changed().unwrap_or(true) {
                self.save().await;
                return;
            }
            let batch = match self.store.pending_events(self.progress.cursor, self.config.batch).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, webhook = %self.target.id, "reading events to deliver failed");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                if self.dirty && !self.save().await {
                    return;
                }
                // Woken by the next commit or change; a look every second all the same.
                committed.borrow_and_update();
                tokio::select! {
                    _ = committed.changed() => {}
                    _ = changed.changed() => {
                        self.save().await;
                        return;
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            // While events are being ingested, a deliverer steps aside for a moment after each batch: the
            // writer and the readers come first (with three endpoints, ingest ran 7 to 9% slower without this).
            if self.store.writes_pending() {
                tokio::time::sleep(self.config.yield_while_ingesting).await;
            }
            for event in &batch {
                if self.target.settings.matches(&event.action, &event.outcome) {
                    match self.deliver(event, &mut changed).await {
                        Next::Delivered => {}
                        Next::Disabled => return,
                        Next::Changed => {
                            self.save().await;
                            return;
                        }
                    }
                }
                self.progress.cursor = event.seq;
                self.dirty = true;
                if self.saved_at.elapsed() >= self.config.save_every && !self.save().await {
                    return;
                }
            }
        }
    }

    /// Sends `event` until it is delivered, the endpoint is disabled, or an endpoint changes.
    async fn deliver(&mut self, event: &PendingEvent, changed: &mut watch::Receiver<u64>) -> Next {
        let (id, body) = message(event, self.target.settings.format);
        loop {
            if let Some(due) = self.progress.retry.next_attempt_at {
                let wait = due - chrono::Utc::now().timestamp_millis();
                if wait > 0 {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                        _ = changed.changed() => return Next::Changed,
                    }
                }
            }
            if changed.has_changed().unwrap_or(true) {
                return Next::Changed;
            }
            let attempt = self.progress.retry.attempts + 1;
            let sent = self
                .sender
                .send(&self.target.settings.url, &self.target.secrets, &id, body.clone())
                .await;
            let now = chrono::Utc::now().timestamp_millis();
            self.progress.attempts.push(Attempt {
                event_id: event.id.clone(),
                attempt,
                at: now,
                status: sent.status(),
                latency_ms: sent.latency.as_millis() as u64,
                error: sent.error(),
            });
            metrics::counter!("webhook_attempts_total", "outcome" => if sent.error().is_none() { "delivered" } else { "failed" }).increment(1);
            match sent.answer {
                Answer::Delivered(_) => {
                    let was_failing = self.progress.retry.failing_since.is_some();
                    self.progress.retry = Retry::default();
                    self.progress.last_error = None;
                    self.dirty = true;
                    if was_failing {
                        // Shown as healthy at once.
                        self.progress.cursor = event.seq;
                        self.save().await;
                    }
                    return Next::Delivered;
                }
                Answer::Gone => return self.disable("the endpoint answered 410 Gone", event).await,
                Answer::Failed { error, .. } => {
                    let since = *self.progress.retry.failing_since.get_or_insert(now);
                    if now - since >= self.config.give_up_after.as_millis() as i64 {
                        let reason = format!("failing for {} hours; last error: {error}", (now - since) / 3_600_000);
                        return self.disable(&reason, event).await;
                    }
                    self.progress.retry.attempts = attempt;
                    self.progress.retry.next_attempt_at =
                        Some(now + self.config.wait_after(attempt).as_millis() as i64);
                    self.progress.last_error = Some(error);
                    self.dirty = true;
                    if !self.save().await {
                        return Next::Changed;
                    }
                }
            }
        }
    }

    /// Disables the endpoint (recorded); its task ends.
    async fn disable(&mut self, reason: &str, event: &PendingEvent) -> Next {
        tracing::warn!(webhook = %self.target.id, reason, "webhook endpoint disabled");
        let progress = std::mem::take(&mut self.progress);
        if let Err(e) = self
            .store
            .disable_webhook(&self.target.id, self.target.generation, reason, &event.id, progress)
            .await
        {
            tracing::error!(error = %e, webhook = %self.target.id, "disabling a webhook endpoint failed");
        }
        Next::Disabled
    }

    /// Saves the progress; false when the endpoint changed meanwhile (its task is then replaced).
    async fn save(&mut self) -> bool {
        let progress = Progress {
            attempts: std::mem::take(&mut self.progress.attempts),
            ..self.progress.clone()
        };
        self.saved_at = Instant::now();
        match self
            .store
            .save_webhook_progress(&self.target.id, self.target.generation, progress)
            .await
        {
            Ok(saved) => {
                self.dirty = false;
                saved
            }
            Err(e) => {
                tracing::error!(error = %e, webhook = %self.target.id, "saving webhook progress failed");
                true
            }
        }
    }
}
