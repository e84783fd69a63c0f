//! What the tab shows of one event and of the log's integrity: the detail dialog (with the checkpoint that
//! covers the event, its `Integrity`), and a run of `Verify log`.

use serde::{Deserialize, Serialize};

use super::{Event, event::value_text};

/// A signed checkpoint, as the tab names it: its tree size and when it was signed (RFC 3339, UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRef {
    pub tree_size: u64,
    pub made_at: String,
}

/// The detail dialog as text, made on the server from the event and the latest checkpoint when it covers the
/// event: each field with its label (a field the event does not have is left out), the rows of the diff of
/// `details.changes`, and the details pretty-printed. The browser only shows it, so its download holds neither
/// the event's types nor JSON values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// `(label, text)`, in the dialog's order.
    pub fields: Vec<(String, String)>,
    /// `(field, before, after)`; `—` for a side without a value.
    pub changes: Vec<(String, String, String)>,
    pub details: String,
}

impl EventDetail {
    pub fn new(e: Event, checkpoint: Option<&CheckpointRef>) -> EventDetail {
        let text = |v: &serde_json::Value| value_text(v, "—");
        let changes = e
            .changes()
            .into_iter()
            .map(|(field, from, to)| (field, text(&from), text(&to)))
            .collect();
        let details = serde_json::to_string_pretty(&e.details).unwrap_or_default();
        let target = e.target.as_ref();
        let fields = [
            ("ID", Some(e.id.clone())),
            ("Timestamp", Some(e.timestamp.clone())),
            ("Received", Some(e.received_at.clone())),
            ("Action", Some(e.action.clone())),
            ("Outcome", Some(e.outcome.as_str().to_string())),
            ("Actor type", Some(e.actor.kind.as_str().to_string())),
            ("Actor ID", e.actor.id.clone()),
            ("Actor name", e.actor.name.clone()),
            ("Actor email", e.actor.email.clone()),
            ("Target type", target.map(|t| t.kind.clone())),
            ("Target ID", target.and_then(|t| t.id.clone())),
            ("Target name", target.and_then(|t| t.name.clone())),
            ("Source", Some(e.source.clone())),
            ("Tenant", e.tenant.clone()),
            ("IP address", e.ip.clone()),
            ("User agent", e.user_agent.clone()),
            ("Recorded by", e.recorded_by.as_ref().map(|r| r.label())),
            ("Integrity", Some(integrity(e.log_index, checkpoint))),
        ];
        let fields = fields
            .into_iter()
            .filter_map(|(label, value)| Some((label.to_string(), value?)))
            .collect();
        EventDetail {
            fields,
            changes,
            details,
        }
    }
}

/// The dialog's `Integrity` line for the event at `log_index`, with the latest checkpoint when it covers it.
fn integrity(log_index: Option<u64>, checkpoint: Option<&CheckpointRef>) -> String {
    let Some(index) = log_index else {
        return "Not in the log".into();
    };
    let place = format!("Log index {}", super::page::thousands(index));
    match checkpoint {
        Some(cp) => format!(
            "{place}, in the signed checkpoint of {} events ({})",
            super::page::thousands(cp.tree_size),
            cp.made_at
        ),
        None => format!("{place}, not yet in a signed checkpoint (one is signed within seconds)"),
    }
}

/// How a `Verify log` run stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyStatus {
    pub running: bool,
    /// Log indexes checked so far, of `total`.
    pub done: u64,
    pub total: u64,
    /// The last run's outcome, once it has ended.
    pub result: Option<VerifyOutcome>,
}

/// What a finished run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifyOutcome {
    pub events: u64,
    pub checkpoints: u64,
    /// When the latest checkpoint checked was signed (RFC 3339, UTC).
    pub latest_checkpoint_at: Option<String>,
    /// Each problem found; empty when the log verified.
    pub problems: Vec<String>,
}

impl VerifyOutcome {
    /// The line the tab shows: `Log verified: 1,234,567 events up to 2026-12-04 05:00 UTC`, or the first problem.
    pub fn message(&self) -> String {
        match self.problems.first() {
            None => format!(
                "Log verified: {} events{}",
                super::page::thousands(self.events),
                self.latest_checkpoint_at
                    .as_deref()
                    .map(|t| format!(" up to {}", short_time(t)))
                    .unwrap_or_default()
            ),
            Some(first) => format!(
                "Log verification failed ({} problem{}): {first}",
                self.problems.len(),
                if self.problems.len() == 1 { "" } else { "s" }
            ),
        }
    }
}

/// `2026-12-04T05:00:00.000Z` as `2026-12-04 05:00 UTC`.
fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// What one purge did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeOutcome {
    /// Its `audit.retention_purge` event (none when nothing was deleted).
    pub event_id: Option<String>,
    pub retention_days: u32,
    /// Events older than this (RFC 3339) were deleted.
    pub cutoff: String,
    pub deleted: u64,
    pub first_log_index: Option<u64>,
    pub last_log_index: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_dialog_lists_present_fields_in_order_with_the_diff_as_text() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "id": "01JB8Q4K7N2X5S3V9T0R1C6M2D", "timestamp": "2026-12-04T10:00:00.000Z",
            "received_at": "2026-12-04T10:00:01.000Z", "action": "user.update", "outcome": "success",
            "actor": {"type": "user", "id": "u1", "email": "zoe@acme.com"}, "source": "panel",
            "tenant": "acme", "ip": "203.0.113.7", "log_index": 1233,
            "details": {"changes": {"role": {"from": "viewer", "to": "admin"}, "quota": {"from": null, "to": 5}}},
        }))
        .unwrap();
        let checkpoint = CheckpointRef {
            tree_size: 2000,
            made_at: "2026-12-04T10:00:02Z".into(),
        };
        let detail = EventDetail::new(event, Some(&checkpoint));
        let labels: Vec<&str> = detail.fields.iter().map(|(label, _)| label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "ID",
                "Timestamp",
                "Received",
                "Action",
                "Outcome",
                "Actor type",
                "Actor ID",
                "Actor email",
                "Source",
                "Tenant",
                "IP address",
                "Integrity"
            ]
        );
        let field = |name: &str| {
            detail
                .fields
                .iter()
                .find(|(label, _)| label == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("IP address"), Some("203.0.113.7"));
        assert_eq!(field("Tenant"), Some("acme"));
        assert_eq!(
            field("Integrity"),
            Some("Log index 1,233, in the signed checkpoint of 2,000 events (2026-12-04T10:00:02Z)")
        );
        assert_eq!(
            detail.changes,
            [
                ("role".to_string(), "viewer".to_string(), "admin".to_string()),
                ("quota".to_string(), "—".to_string(), "5".to_string())
            ]
        );
        assert!(
            detail.details.starts_with("{\n  \"changes\": {\n"),
            "{}",
            detail.details
        );
    }
}
