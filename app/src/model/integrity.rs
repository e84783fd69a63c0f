//! What the tab shows of the log's integrity: the checkpoint that covers an event (the detail dialog's
//! `Integrity`), and a run of `Verify log`.

use serde::{Deserialize, Serialize};

use super::Event;

/// A signed checkpoint, as the tab names it: its tree size and when it was signed (RFC 3339, UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRef {
    pub tree_size: u64,
    pub made_at: String,
}

/// One event for the detail dialog, with the latest checkpoint when it covers the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub event: Event,
    pub checkpoint: Option<CheckpointRef>,
}

impl EventView {
    /// The dialog's `Integrity` line.
    pub fn integrity(&self) -> String {
        let Some(index) = self.event.log_index else {
            return "Not in the log".into();
        };
        let place = format!("Log index {}", super::page::thousands(index));
        match &self.checkpoint {
            Some(cp) => format!(
                "{place}, in the signed checkpoint of {} events ({})",
                super::page::thousands(cp.tree_size),
                cp.made_at
            ),
            None => format!("{place}, not yet in a signed checkpoint (one is signed within seconds)"),
        }
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
