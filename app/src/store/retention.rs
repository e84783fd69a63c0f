//! Retention (docs/trust.md): how long events are kept (`audit_settings.retention_days`, absent: forever), and
//! the purge that deletes the older ones, in batches short enough that ingestion goes on between them, each
//! with every derived table, index and cache put right in the same step. Each purge that deletes something is
//! recorded as one `audit.retention_purge` event.

use std::time::{Duration, Instant};

use super::{error::StoreError, handle::AuditStore, schema::DAY_MS, writer::PurgeBatch};
use crate::model::{Actor, FieldError, NewEvent, PurgeOutcome, RecordedBy, recorded, time};

/// The key of the setting in `audit_settings`.
const RETENTION_KEY: &str = "retention_days";

/// The longest window a retention may be: a hundred years.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// `days` as a retention, or the error that names the field.
pub fn check_retention(days: Option<i64>) -> Result<Option<u32>, FieldError> {
    match days {
        None => Ok(None),
        Some(d) if (1..=i64::from(MAX_RETENTION_DAYS)).contains(&d) => Ok(Some(d as u32)),
        Some(_) => Err(FieldError::invalid(
            "days",
            "must be a whole number of days from 1 to 36,500, or null to keep events forever",
        )),
    }
}

impl AuditStore {
    /// How many days events are kept; `None`: forever.
    pub async fn retention_days(&self) -> Result<Option<u32>, StoreError> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM audit_settings WHERE key = ?")
            .bind(RETENTION_KEY)
            .fetch_optional(&self.panel_read)
            .await?;
        Ok(value.and_then(|v| v.parse().ok()))
    }

    /// Sets how many days events are kept (`None`: forever), recorded as `settings.update` with the diff by
    /// `actor` through `by` when it changes (`finish` adds what the caller knows of the request: its IP and
    /// user agent). The purge runs soon after. Returns the previous value.
    pub async fn set_retention_days(
        &self,
        days: Option<u32>,
        actor: Actor,
        by: RecordedBy,
        finish: impl FnOnce(NewEvent) -> NewEvent + Send + 'static,
    ) -> Result<Option<u32>, StoreError> {
        let days = check_retention(days.map(i64::from))?;
        let previous = self
            .change_as(by, move |tx| {
                let old: Option<u32> = tx
                    .query_row(
                        "SELECT value FROM audit_settings WHERE key = ?1",
                        [RETENTION_KEY],
                        |r| r.get::<_, String>(0),
                    )
                    .ok()
                    .and_then(|v| v.parse().ok());
                if old == days {
                    return Ok((old, None));
                }
                match days {
                    Some(d) => tx.execute(
                        "INSERT INTO audit_settings (key, value) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [RETENTION_KEY, &d.to_string()],
                    )?,
                    None => tx.execute("DELETE FROM audit_settings WHERE key = ?1", [RETENTION_KEY])?,
                };
                let shown = |d: Option<u32>| d.map_or("forever".to_string(), |d| d.to_string());
                let event = recorded::setting_changed(actor, RETENTION_KEY, &shown(old), &shown(days));
                Ok((old, Some(finish(event))))
            })
            .await?;
        self.retention_changed.notify_one();
        Ok(previous)
    }

    /// Deletes the events older than the retention window as of `now` (Unix ms), batch by batch; nothing
    /// when events are kept forever.
    pub async fn purge_expired(&self, now: i64) -> Result<PurgeOutcome, StoreError> {
        let Some(days) = self.retention_days().await? else {
            return Ok(PurgeOutcome::default());
        };
        let cutoff = now - i64::from(days) * DAY_MS;
        let purge = ulid::Ulid::new().to_string();
        let mut outcome = PurgeOutcome {
            retention_days: days,
            cutoff: time::format_millis(cutoff),
            ..PurgeOutcome::default()
        };
        let mut limit = self.tuning.purge_first_batch;
        loop {
            let started = Instant::now();
            let batch = {
                // Readers that remember counts wait while a batch runs; after it, what they remember is gone.
                let _gate = self.purge_gate.write().await;
                let batch = PurgeBatch {
                    cutoff,
                    up_to: self.archived.load(std::sync::atomic::Ordering::Acquire),
                    limit,
                    purge: purge.clone(),
                };
                let batch = self.writer.purge(batch).await?;
                self.forget_counts();
                batch
            };
            if batch.deleted == 0 {
                break;
            }
            outcome.deleted += batch.deleted;
            outcome.first_log_index = outcome.first_log_index.min(batch.first).or(batch.first);
            outcome.last_log_index = outcome.last_log_index.max(batch.last);
            let took = started.elapsed();
            tracing::debug!(rows = batch.deleted, limit, ms = took.as_millis() as u64, "purge batch");
            limit = next_limit(limit, took, self.tuning.purge_batch_time);
            // A batch writes many pages (every index of every row): the pause lets ingestion and the WAL's
            // checkpoints catch up, so that the WAL never grows to the size the writer must checkpoint itself.
            tokio::time::sleep(took.mul_f64(self.tuning.purge_pause)).await;
        }
        if outcome.deleted > 0 {
            let mut event: NewEvent = recorded::retention_purged(&outcome);
            event.id = Some(purge.clone());
            self.record(event).await?;
            outcome.event_id = Some(purge);
            tracing::info!(deleted = outcome.deleted, cutoff = %outcome.cutoff, "retention purge");
        }
        Ok(outcome)
    }

    /// Purges within moments of start and of every change of the retention, then every `interval`, until
    /// the process ends. A purge that fails is logged and tried again at the next turn.
    pub async fn run_retention(self, interval: Duration) {
        loop {
            if let Err(e) = self.purge_expired(super::schema::now_millis()).await {
                tracing::error!(error = %e, "retention purge failed; it runs again at the next turn");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = self.retention_changed.notified() => {}
            }
        }
    }
}

/// The next batch's size: what would have taken `target`, within 100 and 20,000 rows.
fn next_limit(limit: i64, took: Duration, target: Duration) -> i64 {
    let scaled = limit as f64 * target.as_secs_f64() / took.as_secs_f64().max(1e-4);
    (scaled as i64).clamp(100, 20_000)
}
