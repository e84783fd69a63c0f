//! What the webhook deliverers and the archive read and save. The events table is the outbox (migration 19): an endpoint's
//! `cursor` is the row id of the last event it delivered or passed over, so every event committed after it is
//! still to go, in commit order, and a deliverer that crashes starts again from its last saved cursor.

use rusqlite::{OptionalExtension, params};
use tokio::sync::watch;

use super::{
    error::StoreError,
    export::{ExportRecord, record},
    handle::AuditStore,
    schema::{full_columns, now_millis},
    sql::open_connection,
};
use crate::model::{
    recorded,
    webhook::{OutcomeFilter, WebhookFormat, WebhookSettings},
};

/// The recent attempts kept per endpoint.
pub(super) const KEPT_DELIVERIES: i64 = 50;

/// An endpoint's settings as stored, in `WebhookSettings`' order: `settings_at` reads them.
pub(super) const SETTINGS_COLUMNS: &str = "url, description, actions, outcome, format, enabled";

/// The settings in `SETTINGS_COLUMNS`, from column `first` of `r` on.
pub(super) fn settings_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<WebhookSettings> {
    let text = |i: usize| r.get::<_, String>(first + i);
    Ok(WebhookSettings {
        url: text(0)?,
        description: text(1)?,
        actions: text(2)?.lines().map(str::to_string).collect(),
        outcome: OutcomeFilter::parse(&text(3)?).unwrap_or_default(),
        format: WebhookFormat::parse(&text(4)?).unwrap_or_default(),
        enabled: r.get(first + 5)?,
    })
}

/// An enabled endpoint as its deliverer needs it.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub id: String,
    pub settings: WebhookSettings,
    /// The secrets that sign: the current one, then the previous one while it is still valid.
    pub secrets: Vec<String>,
    /// The row id of the last event delivered or passed over.
    pub cursor: i64,
    /// Its progress is saved only while this is the endpoint's generation (no change came since).
    pub generation: i64,
    pub retry: Retry,
}

/// Where the retries of the event at the head of an endpoint's queue stand.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Retry {
    /// Unix ms of its first failed attempt.
    pub failing_since: Option<i64>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix ms when the next attempt is due.
    pub next_attempt_at: Option<i64>,
}

/// An event to deliver, read after a cursor.
#[derive(Clone, Debug)]
pub struct PendingEvent {
    pub seq: i64,
    /// Unix ms.
    pub received_at: i64,
    pub id: String,
    pub action: String,
    pub outcome: String,
    /// RFC 3339.
    pub timestamp: String,
    /// The canonical event JSON (as the API returns it, with `log_index`).
    pub json: String,
    /// One line for a chat message: time, actor, action, target, outcome.
    pub chat: String,
}

/// One attempt, as saved.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub event_id: String,
    pub attempt: u32,
    /// Unix ms.
    pub at: i64,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// How far an endpoint got: its new cursor, the state of its retries, and the attempts since the last save.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub cursor: i64,
    pub retry: Retry,
    pub last_error: Option<String>,
    pub attempts: Vec<Attempt>,
}

/// The chat line of an event: `2026-12-04T10:00:00.000Z ann@example.com auth.login user bob failure`.
fn chat_line(r: &ExportRecord<'_>, timestamp: &str) -> String {
    let actor = r.actor_email.or(r.actor_name).or(r.actor_id).unwrap_or(r.actor_type);
    let target = match r.target_type {
        Some(kind) => format!(" {kind} {}", r.target_name.or(r.target_id).unwrap_or("")),
        None => String::new(),
    };
    format!("{timestamp} {actor} {}{} {}", r.action, target.trim_end(), r.outcome)
}

fn pending(r: &ExportRecord<'_>) -> PendingEvent {
    let mut json = Vec::with_capacity(512);
    r.write_jsonl(&mut json);
    json.pop();
    let timestamp = crate::model::time::format_millis(r.ts);
    PendingEvent {
        seq: r.log_index + 1,
        received_at: r.received_at,
        id: r.id.to_string(),
        action: r.action.to_string(),
        outcome: r.outcome.to_string(),
        chat: chat_line(r, &timestamp),
        timestamp,
        json: String::from_utf8_lossy(&json).into_owned(),
    }
}

impl AuditStore {
    /// Follows the row id of the last event committed.
    pub fn committed_events(&self) -> watch::Receiver<i64> {
        self.writer.committed()
    }

    /// Changes whenever an endpoint is created, changed, removed, rotated or replayed.
    pub fn webhooks_changed(&self) -> watch::Receiver<u64> {
        self.webhooks_changed.subscribe()
    }

    /// Tells the retention purge that the events up to row id `seq` are archived (and none after it is).
    pub fn set_archived(&self, seq: i64) {
        self.archived.store(seq, std::sync::atomic::Ordering::Release);
    }

    /// Runs `read` on a read-only connection of its own, on a blocking thread.
    pub(super) async fn webhook_read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read(&open_connection(&path, true, 2_048)?))
            .await
            .map_err(|_| StoreError::ShuttingDown)?
    }

    /// The enabled endpoints.
    pub async fn webhook_targets(&self) -> Result<Vec<WebhookTarget>, StoreError> {
        self.targets("enabled", None).await
    }

    /// One endpoint, enabled or not (a test event goes to either).
    pub async fn webhook_target(&self, id: &str) -> Result<WebhookTarget, StoreError> {
        let mut found = self.targets("id = ?1", Some(id.to_string())).await?;
        found.pop().ok_or(StoreError::NotFound)
    }

    async fn targets(&self, condition: &'static str, id: Option<String>) -> Result<Vec<WebhookTarget>, StoreError> {
        let now = now_millis();
        self.webhook_read(move |conn| {
            let mut s = conn.prepare(&format!(
                "SELECT id, {SETTINGS_COLUMNS}, secret, previous_secret, previous_until, cursor, generation, \
                 failing_since, attempts, next_attempt_at FROM webhooks WHERE {condition} ORDER BY id"
            ))?;
            let rows = s.query_map(rusqlite::params_from_iter(id.iter()), |r| {
                let previous: Option<String> = r.get(8)?;
                let until: Option<i64> = r.get(9)?;
                let mut secrets = vec![r.get::<_, String>(7)?];
                secrets.extend(previous.filter(|_| until.is_some_and(|u| u > now)));
                Ok(WebhookTarget {
                    id: r.get(0)?,
                    settings: settings_at(r, 1)?,
                    secrets,
                    cursor: r.get(10)?,
                    generation: r.get(11)?,
                    retry: Retry {
                        failing_since: r.get(12)?,
                        attempts: r.get(13)?,
                        next_attempt_at: r.get(14)?,
                    },
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Adds attempts made outside the queue (a test event) to an endpoint's deliveries.
    pub async fn record_webhook_attempts(&self, id: &str, attempts: Vec<Attempt>) -> Result<(), StoreError> {
        let id = id.to_string();
        self.change(move |tx| {
            save_attempts(tx, &id, &attempts)?;
            Ok(((), None))
        })
        .await
    }

    /// Up to `limit` events committed after row id `after`, in commit order.
    pub async fn pending_events(&self, after: i64, limit: i64) -> Result<Vec<PendingEvent>, StoreError> {
        self.webhook_read(move |conn| {
            let sql = format!(
                "SELECT {} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                full_columns()
            );
            let mut s = conn.prepare_cached(&sql)?;
            let mut rows = s.query(params![after, limit])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(pending(&record(row)?));
            }
            Ok(out)
        })
        .await
    }

    /// Saves how far endpoint `id` got, unless it changed since its deliverer read `generation`; false then.
    pub async fn save_webhook_progress(
        &self,
        id: &str,
        generation: i64,
        progress: Progress,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.change(move |tx| {
            let p = &progress;
            let saved = tx.execute(
                "UPDATE webhooks SET cursor = ?3, failing_since = ?4, attempts = ?5, next_attempt_at = ?6, \
                 last_error = ?7 WHERE id = ?1 AND generation = ?2",
                params![
                    id,
                    generation,
                    p.cursor,
                    p.retry.failing_since,
                    p.retry.attempts,
                    p.retry.next_attempt_at,
                    p.last_error
                ],
            )? == 1;
            if saved {
                save_attempts(tx, &id, &p.attempts)?;
            }
            Ok((saved, None))
        })
        .await
    }

    /// Disables endpoint `id` for `reason` (a 410, or failing for three days at `event_id`), recorded as
    /// `webhook.disabled`, unless it changed since its deliverer read `generation`; false then.
    pub async fn disable_webhook(
        &self,
        id: &str,
        generation: i64,
        reason: &str,
        event_id: &str,
        progress: Progress,
    ) -> Result<bool, StoreError> {
        let (id, reason, event_id) = (id.to_string(), reason.to_string(), event_id.to_string());
        let disabled = self
            .change(move |tx| {
                let url: Option<String> = tx
                    .query_row(
                        "UPDATE webhooks SET enabled = 0, disabled_reason = ?3, failing_since = NULL, attempts = 0, \
                         next_attempt_at = NULL, last_error = ?3, generation = generation + 1 \
                         WHERE id = ?1 AND generation = ?2 RETURNING url",
                        params![id, generation, reason],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(url) = url else { return Ok((false, None)) };
                save_attempts(tx, &id, &progress.attempts)?;
                Ok((true, Some(recorded::webhook_disabled(&id, &url, &reason, &event_id))))
            })
            .await?;
        if disabled {
            self.webhooks_changed.send_modify(|n| *n += 1);
        }
        Ok(disabled)
    }
}

/// Adds the attempts to an endpoint's deliveries and keeps its last `KEPT_DELIVERIES`.
fn save_attempts(tx: &rusqlite::Transaction, id: &str, attempts: &[Attempt]) -> rusqlite::Result<()> {
    let kept = KEPT_DELIVERIES;
    let skip = attempts.len().saturating_sub(kept as usize);
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_deliveries (webhook, event_id, attempt, at, status, latency_ms, error) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for a in &attempts[skip..] {
        insert.execute(params![
            id,
            a.event_id,
            a.attempt,
            a.at,
            a.status,
            a.latency_ms as i64,
            a.error
        ])?;
    }
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE webhook = ?1 AND id <= \
         (SELECT id FROM webhook_deliveries WHERE webhook = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        params![id, kept],
    )?;
    Ok(())
}
