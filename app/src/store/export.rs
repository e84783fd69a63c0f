//! The export read path: every event matching a query, in the list's order, read straight from SQLite on a
//! blocking thread and handed out borrowed from the row, so that a million rows cost no allocation each.
//!
//! The walk goes in keyset chunks (one prepared statement, re-run after the last row of the previous chunk), so
//! no read transaction stays open for the whole export and the WAL can be checkpointed meanwhile.

use std::{path::PathBuf, sync::Arc};

use rusqlite::{Row, params_from_iter};
use serde::Serialize;

use super::{
    error::StoreError,
    filter::{Resolved, Source, push_after_cursor, push_filters, push_order},
    handle::AuditStore,
    schema::full_columns,
    sql::{RawSql, SqlSink, open_connection},
};
use crate::model::{AuditQuery, SortKey, query::Cursor, time};

/// One stored event, borrowed from SQLite's row: `details` is the stored JSON text, `ip` the whole address.
#[derive(Clone, Copy, Debug)]
pub struct ExportRecord<'a> {
    pub id: &'a str,
    pub ts: i64,
    pub received_at: i64,
    pub action: &'a str,
    pub outcome: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub source: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub details: &'a str,
    pub tenant: Option<&'a str>,
    pub log_index: i64,
    /// The `recorded_by` JSON object, as stored.
    pub recorded_by: &'a str,
}

/// A query made ready to export: its filters decided against the data once, for the whole walk.
#[derive(Debug)]
pub struct ExportPlan {
    query: AuditQuery,
    resolved: Resolved,
    path: Arc<PathBuf>,
    chunk_rows: i64,
    /// The table as the walk reads it.
    source: Source,
    /// This export's turn (see `AuditStore::exports`), held until the plan is dropped.
    _turn: tokio::sync::OwnedSemaphorePermit,
    /// Its place among its caller's exports, given back when the plan is dropped.
    _caller: Option<CallerTurn>,
}

/// One of a caller's running (or waiting) exports.
#[derive(Debug)]
struct CallerTurn {
    caller: String,
    exporters: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl CallerTurn {
    /// A place for `caller`, unless it already has `limit`.
    fn take(store: &AuditStore, caller: String) -> Result<CallerTurn, StoreError> {
        let limit = store.tuning.exports_per_caller.max(1);
        let mut running = store.exporters.lock().map_err(|_| StoreError::ShuttingDown)?;
        let n = running.entry(caller.clone()).or_default();
        if *n >= limit {
            return Err(StoreError::TooManyExports(limit));
        }
        *n += 1;
        Ok(CallerTurn {
            caller,
            exporters: store.exporters.clone(),
        })
    }
}

impl Drop for CallerTurn {
    fn drop(&mut self) {
        if let Ok(mut running) = self.exporters.lock()
            && let Some(n) = running.get_mut(&self.caller)
        {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.caller);
            }
        }
    }
}

impl AuditStore {
    /// Prepares the export of everything matching the filters of `q` (its page and cursor are ignored). Waits
    /// while as many exports as allowed are running. With `caller` (who asks over HTTP), refuses at once when
    /// that caller already runs as many as one may (`TooManyExports`).
    pub async fn export_plan(&self, q: &AuditQuery, caller: Option<String>) -> Result<ExportPlan, StoreError> {
        let caller = caller.map(|c| CallerTurn::take(self, c)).transpose()?;
        let turn = self
            .exports
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        let _gate = self.purge_gate.read().await;
        let query = self.plain(q).await?.filters_only();
        let resolved = self.resolve(&query).await?;
        let source = self.source_for_walk(&query, &resolved).await?;
        Ok(ExportPlan {
            query,
            resolved,
            source,
            path: self.path.clone(),
            chunk_rows: self.tuning.export_chunk_rows,
            _turn: turn,
            _caller: caller,
        })
    }
}

impl ExportPlan {
    /// Reads this many rows per chunk instead of `Tuning::export_chunk_rows` (tests walk many chunk boundaries
    /// with few rows).
    pub fn with_chunk_rows(mut self, rows: u32) -> Self {
        self.chunk_rows = i64::from(rows.max(1));
        self
    }

    /// Reads every matching event in order and calls `each` with it; stops early when `each` returns false.
    /// Returns how many rows were handed out. Blocking: call it from a blocking thread.
    pub fn walk(&self, mut each: impl FnMut(&ExportRecord<'_>) -> bool) -> Result<u64, StoreError> {
        let conn = open_connection(&self.path, true, 8_192)?;
        let mut after: Option<Cursor> = None;
        let mut total = 0;
        loop {
            let sql = self.chunk_sql(after.as_ref());
            let mut statement = conn.prepare_cached(&sql.text)?;
            let mut rows = statement.query(params_from_iter(sql.values.iter()))?;
            let mut in_chunk = 0;
            let mut last = Cursor::default();
            while let Some(row) = rows.next()? {
                let record = record(row)?;
                total += 1;
                in_chunk += 1;
                if !each(&record) {
                    return Ok(total);
                }
                if in_chunk == self.chunk_rows {
                    last.id.clear();
                    last.id.push_str(record.id);
                    last.millis = record.ts;
                    if self.query.sort == SortKey::Action {
                        last.key.clear();
                        last.key.push_str(record.action);
                    }
                }
            }
            if in_chunk < self.chunk_rows {
                return Ok(total);
            }
            after = Some(last);
        }
    }

    fn chunk_sql(&self, after: Option<&Cursor>) -> RawSql {
        let mut sql = RawSql {
            text: format!("SELECT {} FROM {}", full_columns(), self.source.sql()),
            values: Vec::new(),
        };
        push_filters(&mut sql, &self.query, &self.resolved);
        if let Some(c) = after {
            push_after_cursor(&mut sql, &self.query, c);
        }
        push_order(&mut sql, &self.query);
        sql.sql(" LIMIT ").int(self.chunk_rows);
        sql
    }
}

/// The row in `full_columns()` order.
pub(super) fn record<'a>(r: &'a Row<'_>) -> rusqlite::Result<ExportRecord<'a>> {
    let text = |i: usize| -> rusqlite::Result<&'a str> { Ok(r.get_ref(i)?.as_str()?) };
    let opt = |i: usize| -> rusqlite::Result<Option<&'a str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    Ok(ExportRecord {
        id: text(0)?,
        ts: r.get(1)?,
        received_at: r.get(2)?,
        action: text(3)?,
        outcome: text(4)?,
        actor_type: text(5)?,
        actor_id: opt(6)?,
        actor_name: opt(7)?,
        actor_email: opt(8)?,
        target_type: opt(9)?,
        target_id: opt(10)?,
        target_name: opt(11)?,
        source: text(12)?,
        ip: opt(13)?,
        user_agent: opt(14)?,
        details: text(15)?,
        tenant: opt(16)?,
        log_index: r.get(17)?,
        recorded_by: r.get_ref(18)?.as_str_or_null()?.unwrap_or("null"),
    })
}

/// The canonical event JSON (the README's "The event"), field for field as `Event` writes it; `details` follows,
/// copied from storage as it is.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    timestamp: String,
    received_at: String,
    action: &'a str,
    outcome: &'a str,
    actor: Party<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Party<'a>>,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
}

/// An actor, or a target (which has no email): `type` and whichever of the rest are present.
#[derive(Serialize)]
struct Party<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

impl ExportRecord<'_> {
    /// Appends the event's canonical JSON (the README's "The event": as the API returns it, with `log_index`) and a
    /// newline: one line of a JSONL export, of an archive file, and a webhook's `data`.
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        let r = self;
        let line = Canonical {
            id: r.id,
            timestamp: time::format_millis(r.ts),
            received_at: time::format_millis(r.received_at),
            action: r.action,
            outcome: r.outcome,
            actor: Party {
                kind: r.actor_type,
                id: r.actor_id,
                name: r.actor_name,
                email: r.actor_email,
            },
            target: r.target_type.map(|kind| Party {
                kind,
                id: r.target_id,
                name: r.target_name,
                email: None,
            }),
            source: r.source,
            tenant: r.tenant,
            ip: r.ip,
            user_agent: r.user_agent,
        };
        // Serialising borrowed strings into a Vec cannot fail. The object's closing brace makes way for
        // `details` and `recorded_by`, which are stored as validated JSON and so are copied, not parsed and
        // written again.
        let _ = serde_json::to_writer(&mut *out, &line);
        out.pop();
        out.extend_from_slice(b",\"details\":");
        out.extend_from_slice(r.details.as_bytes());
        out.extend_from_slice(b",\"recorded_by\":");
        out.extend_from_slice(r.recorded_by.as_bytes());
        out.extend_from_slice(format!(",\"log_index\":{}}}\n", r.log_index).as_bytes());
    }
}
