//! Webhook endpoints as the admins manage them: create (its secret shown once), change, remove, rotate the
//! secret, replay from a time; each change recorded in the same transaction. What the deliverers read and
//! save is in `outbox`.

use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    error::StoreError,
    handle::AuditStore,
    outbox::{KEPT_DELIVERIES, SETTINGS_COLUMNS, settings_at},
    schema::now_millis,
};
use crate::model::{
    Actor, NewEvent, RecordedBy, recorded, time,
    webhook::{Delivery, Webhook, WebhookPatch, WebhookSettings, WebhookState},
};

/// How long the previous secret still signs after a rotation.
pub const SECRET_OVERLAP_HOURS: i64 = 24;

/// `id`, `SETTINGS_COLUMNS`, then the state: what `webhook_of` reads.
fn webhook_columns() -> String {
    format!("id, {SETTINGS_COLUMNS}, disabled_reason, last_error, failing_since, created_at")
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// A row of `webhook_columns()`.
fn webhook_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let settings = settings_at(r, 1)?;
    let failing_since: Option<i64> = r.get(9)?;
    let state = match (settings.enabled, failing_since) {
        (false, _) => WebhookState::Disabled,
        (true, Some(_)) => WebhookState::Retrying,
        (true, None) => WebhookState::Healthy,
    };
    Ok(Webhook {
        id: r.get(0)?,
        settings,
        state,
        disabled_reason: r.get(7)?,
        last_error: r.get(8)?,
        failing_since: failing_since.map(time::format_millis),
        created_at: time::format_millis(r.get(10)?),
    })
}

fn load(tx: &Transaction, id: &str) -> Result<Webhook, StoreError> {
    tx.query_row(
        &format!("SELECT {} FROM webhooks WHERE id = ?1", webhook_columns()),
        [id],
        webhook_of,
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// Who changes an endpoint, as its event names them, and what the caller adds to that event (where the
/// request came from).
pub struct Changer {
    pub actor: Actor,
    pub by: RecordedBy,
    pub finish: Box<dyn FnOnce(NewEvent) -> NewEvent + Send>,
}

impl AuditStore {
    /// Adds an endpoint (its settings checked, an error naming the field); returns it and its secret, which
    /// nothing shows again. It receives the events committed from now on.
    pub async fn create_webhook(
        &self,
        settings: WebhookSettings,
        who: Changer,
    ) -> Result<(Webhook, String), StoreError> {
        let settings = settings.checked()?;
        let id = ulid::Ulid::new().to_string();
        let secret = new_secret();
        let kept = secret.clone();
        let webhook = self
            .change_as(who.by, move |tx| {
                let now = now_millis();
                tx.execute(
                    "INSERT INTO webhooks (id, url, description, actions, outcome, format, enabled, secret, cursor, \
                     created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT COALESCE(MAX(seq), 0) FROM events), ?9, ?9)",
                    params![
                        id,
                        settings.url,
                        settings.description,
                        settings.actions.join("\n"),
                        settings.outcome.as_str(),
                        settings.format.as_str(),
                        settings.enabled,
                        kept,
                        now
                    ],
                )?;
                let event = recorded::webhook_event("webhook.create", who.actor, &id, &settings, None);
                Ok((load(tx, &id)?, Some((who.finish)(event))))
            })
            .await?;
        self.webhooks_changed.send_modify(|n| *n += 1);
        Ok((webhook, secret))
    }

    /// Changes an endpoint. Enabling one that was disabled starts it at the events committed from now on
    /// (`replay_webhook` sends older ones); a change that changes nothing records nothing.
    pub async fn update_webhook(&self, id: &str, patch: WebhookPatch, who: Changer) -> Result<Webhook, StoreError> {
        let id = id.to_string();
        let webhook = self
            .change_as(who.by, move |tx| {
                let before = load(tx, &id)?;
                let after = patch.apply(&before.settings).checked()?;
                if after == before.settings {
                    return Ok((before, None));
                }
                let restart = after.enabled && !before.settings.enabled;
                tx.execute(
                    "UPDATE webhooks SET url = ?2, description = ?3, actions = ?4, outcome = ?5, format = ?6, \
                     enabled = ?7, updated_at = ?8, generation = generation + 1, \
                     cursor = CASE WHEN ?9 THEN (SELECT COALESCE(MAX(seq), 0) FROM events) ELSE cursor END, \
                     disabled_reason = CASE WHEN ?7 THEN NULL ELSE disabled_reason END, \
                     failing_since = CASE WHEN ?9 THEN NULL ELSE failing_since END, \
                     attempts = CASE WHEN ?9 THEN 0 ELSE attempts END, \
                     next_attempt_at = CASE WHEN ?9 THEN NULL ELSE next_attempt_at END \
                     WHERE id = ?1",
                    params![
                        id,
                        after.url,
                        after.description,
                        after.actions.join("\n"),
                        after.outcome.as_str(),
                        after.format.as_str(),
                        after.enabled,
                        now_millis(),
                        restart
                    ],
                )?;
                let event = recorded::webhook_event("webhook.update", who.actor, &id, &after, Some(&before.settings));
                Ok((load(tx, &id)?, Some((who.finish)(event))))
            })
            .await?;
        self.webhooks_changed.send_modify(|n| *n += 1);
        Ok(webhook)
    }

    /// Removes an endpoint and its deliveries.
    pub async fn delete_webhook(&self, id: &str, who: Changer) -> Result<(), StoreError> {
        let id = id.to_string();
        self.change_as(who.by, move |tx| {
            let before = load(tx, &id)?;
            tx.execute("DELETE FROM webhooks WHERE id = ?1", [&id])?;
            let event = recorded::webhook_event("webhook.delete", who.actor, &id, &before.settings, None);
            Ok(((), Some((who.finish)(event))))
        })
        .await?;
        self.webhooks_changed.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Gives an endpoint a new secret, returned once; the previous one signs too for `SECRET_OVERLAP_HOURS`.
    pub async fn rotate_webhook_secret(&self, id: &str, who: Changer) -> Result<String, StoreError> {
        let id = id.to_string();
        let secret = new_secret();
        let kept = secret.clone();
        self.change_as(who.by, move |tx| {
            let webhook = load(tx, &id)?;
            let until = now_millis() + SECRET_OVERLAP_HOURS * 3_600_000;
            tx.execute(
                "UPDATE webhooks SET previous_secret = secret, previous_until = ?2, secret = ?3, \
                 generation = generation + 1, updated_at = ?4 WHERE id = ?1",
                params![id, until, kept, now_millis()],
            )?;
            let event = recorded::webhook_secret_rotated(who.actor, &id, &webhook.settings.url, SECRET_OVERLAP_HOURS);
            Ok(((), Some((who.finish)(event))))
        })
        .await?;
        self.webhooks_changed.send_modify(|n| *n += 1);
        Ok(secret)
    }

    /// Delivers again, in order, every matching event received at or after `from` (Unix ms), then what
    /// follows; an endpoint being retried starts over with them. Recorded as `webhook.update`.
    pub async fn replay_webhook(&self, id: &str, from: i64, who: Changer) -> Result<Webhook, StoreError> {
        let id = id.to_string();
        let webhook = self
            .change_as(who.by, move |tx| {
                let webhook = load(tx, &id)?;
                tx.execute(
                    "UPDATE webhooks SET cursor = \
                     (SELECT COALESCE(MIN(seq), (SELECT COALESCE(MAX(seq), 0) + 1 FROM events)) - 1 \
                      FROM events WHERE received_at >= ?2), \
                     failing_since = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL, \
                     generation = generation + 1, updated_at = ?3 WHERE id = ?1",
                    params![id, from, now_millis()],
                )?;
                let mut event = recorded::webhook_event("webhook.update", who.actor, &id, &webhook.settings, None);
                event
                    .details
                    .insert("replay_from".into(), time::format_millis(from).into());
                Ok((load(tx, &id)?, Some((who.finish)(event))))
            })
            .await?;
        self.webhooks_changed.send_modify(|n| *n += 1);
        Ok(webhook)
    }

    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.webhook_read(|conn| {
            let mut s = conn.prepare(&format!(
                "SELECT {} FROM webhooks ORDER BY created_at, id",
                webhook_columns()
            ))?;
            let rows = s.query_map([], webhook_of)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// One endpoint; `NotFound` when there is no such id.
    pub async fn webhook(&self, id: &str) -> Result<Webhook, StoreError> {
        let id = id.to_string();
        self.webhook_read(move |conn| {
            conn.query_row(
                &format!("SELECT {} FROM webhooks WHERE id = ?1", webhook_columns()),
                [&id],
                webhook_of,
            )
            .optional()?
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    /// An endpoint's recent attempts, the latest first.
    pub async fn webhook_deliveries(&self, id: &str) -> Result<Vec<Delivery>, StoreError> {
        let id = id.to_string();
        self.webhook_read(move |conn| {
            let mut s = conn.prepare(
                "SELECT event_id, attempt, at, status, latency_ms, error FROM webhook_deliveries \
                 WHERE webhook = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = s
                .query_map(params![id, KEPT_DELIVERIES], |r| {
                    Ok(Delivery {
                        event_id: r.get(0)?,
                        attempt: r.get(1)?,
                        at: time::format_millis(r.get(2)?),
                        status: r.get(3)?,
                        latency_ms: r.get(4)?,
                        error: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
