//! Export: every event matching an `AuditQuery`, as CSV or JSONL, produced chunk by chunk so memory stays
//! flat. The same `Exporter` feeds the HTTP response and `auditlog export`.
//!
//! A client that disconnects drops the stream, and with it the walk: no further chunk is read. A database
//! error mid-stream writes a last line saying the export is incomplete, then fails the transfer, so the file
//! can never pass for complete.

use app::{
    model::{Actor, AuditQuery, NewEvent, Outcome, Target, ip, query::Cursor, query::decode_pairs},
    store::{AuditStore, ExportRow, Scope, StoreError},
};
use axum::{
    body::{Body, Bytes},
    extract::{RawQuery, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, json};
use std::borrow::Cow;

use crate::{auth::Caller, config::ExportFormat, error::ApiError, state::AppState};

/// Rows read per query.
const CHUNK_ROWS: u32 = 2_000;

pub const CSV_HEADER: [&str; 15] = [
    "id",
    "timestamp",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "source",
    "ip",
    "user_agent",
    "details",
];

/// Walks the result and renders it.
pub struct Exporter {
    store: AuditStore,
    query: AuditQuery,
    format: ExportFormat,
    cursor: Option<Cursor>,
    started: bool,
    done: bool,
    pub rows: u64,
}

impl Exporter {
    pub fn new(store: AuditStore, query: AuditQuery, format: ExportFormat) -> Self {
        Exporter {
            store,
            query: query.filters_only(),
            format,
            cursor: None,
            started: false,
            done: false,
            rows: 0,
        }
    }

    /// The next piece of the file, or `None` at the end. The first piece holds at least the header.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let mut out: Vec<u8> = Vec::with_capacity(256 * 1024);
        if !self.started {
            self.started = true;
            if self.format == ExportFormat::Csv {
                out.extend_from_slice("\u{feff}".as_bytes());
                write_csv_record(&mut out, CSV_HEADER.iter().map(|s| s.to_string()));
            }
        }
        let (events, next) = self
            .store
            .export_chunk(&self.query, self.cursor.as_ref(), CHUNK_ROWS)
            .await?;
        self.rows += events.len() as u64;
        match self.format {
            ExportFormat::Csv => write_csv_records(&mut out, events.iter().map(csv_cells)),
            ExportFormat::Jsonl => {
                for row in &events {
                    write_jsonl(&mut out, row)?;
                }
            }
        }
        self.done = next.is_none();
        self.cursor = next;
        Ok(Some(Bytes::from(out)))
    }

    /// The line that ends a file whose export failed part-way.
    pub fn failure_marker(&self) -> Bytes {
        let message = format!(
            "EXPORT INCOMPLETE: the export failed after {} rows; this file is not complete",
            self.rows
        );
        match self.format {
            ExportFormat::Csv => {
                let mut out = Vec::new();
                write_csv_record(&mut out, std::iter::once(message));
                Bytes::from(out)
            }
            ExportFormat::Jsonl => Bytes::from(format!(
                "{}\n",
                json!({"error": {"code": "export_incomplete", "message": message}})
            )),
        }
    }
}

/// One CSV record (RFC 4180 quoting, CRLF), every cell neutralised against formula injection.
fn write_csv_record(out: &mut Vec<u8>, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<Cow<'_, str>> = cells.into_iter().map(Cow::Owned).collect();
    write_csv_records(out, std::iter::once(cells));
}

fn write_csv_records<'a>(out: &mut Vec<u8>, records: impl IntoIterator<Item = Vec<Cow<'a, str>>>) {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    // Writing to a Vec cannot fail.
    for cells in records {
        let _ = writer.write_record(cells.iter().map(|cell| Cell(neutralise_formula(cell))));
    }
    let _ = writer.flush();
}

/// The canonical event JSON of spec/events.md, field for field as `Event` writes it, with `details` copied
/// from storage as it is.
#[derive(serde::Serialize)]
struct Canonical<'a> {
    id: &'a str,
    timestamp: &'a str,
    received_at: &'a str,
    action: &'a str,
    outcome: app::model::Outcome,
    actor: &'a Actor,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: &'a Option<Target>,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: &'a Option<String>,
    details: &'a serde_json::value::RawValue,
}

fn write_jsonl(out: &mut Vec<u8>, row: &ExportRow) -> Result<(), StoreError> {
    let e = &row.event;
    let invalid = |err: serde_json::Error| StoreError::Database(sqlx::Error::Decode(err.into()));
    let details: &serde_json::value::RawValue = serde_json::from_str(&row.details).map_err(invalid)?;
    let line = Canonical {
        id: &e.id,
        timestamp: &e.timestamp,
        received_at: &e.received_at,
        action: &e.action,
        outcome: e.outcome,
        actor: &e.actor,
        target: &e.target,
        source: &e.source,
        ip: &e.ip,
        user_agent: &e.user_agent,
        details,
    };
    serde_json::to_writer(&mut *out, &line).map_err(invalid)?;
    out.push(b'\n');
    Ok(())
}

/// A cell as the csv writer takes it, borrowed from the row where it can be.
struct Cell<'a>(Cow<'a, str>);

impl AsRef<[u8]> for Cell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A cell that a spreadsheet would run as a formula gets a leading `'`.
pub fn neutralise_formula(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

fn csv_cells(row: &ExportRow) -> Vec<Cow<'_, str>> {
    let e = &row.event;
    fn opt(v: &Option<String>) -> Cow<'_, str> {
        Cow::Borrowed(v.as_deref().unwrap_or(""))
    }
    let target = e.target.as_ref();
    vec![
        Cow::Borrowed(e.id.as_str()),
        Cow::Borrowed(e.timestamp.as_str()),
        Cow::Borrowed(e.action.as_str()),
        Cow::Borrowed(e.outcome.as_str()),
        Cow::Borrowed(e.actor.kind.as_str()),
        opt(&e.actor.id),
        opt(&e.actor.name),
        opt(&e.actor.email),
        Cow::Borrowed(target.map_or("", |t| t.kind.as_str())),
        Cow::Borrowed(target.and_then(|t| t.id.as_deref()).unwrap_or("")),
        Cow::Borrowed(target.and_then(|t| t.name.as_deref()).unwrap_or("")),
        Cow::Borrowed(e.source.as_str()),
        e.ip.as_deref().map_or(Cow::Borrowed(""), |ip| Cow::Owned(ip::mask(ip))),
        opt(&e.user_agent),
        Cow::Borrowed(row.details.as_str()),
    ]
}

/// The `audit.export` event: who exported, in which format, with which filters, how many rows, and
/// whether the export finished.
pub fn export_event(actor: Actor, format: ExportFormat, query: &AuditQuery, rows: u64, completed: bool) -> NewEvent {
    let mut details = Map::new();
    details.insert("format".into(), json!(format.as_str()));
    details.insert("filters".into(), json!(query.filters_only().to_query_string()));
    details.insert("rows".into(), json!(rows));
    details.insert("completed".into(), json!(completed));
    NewEvent {
        action: "audit.export".into(),
        outcome: if completed { Outcome::Success } else { Outcome::Failure },
        actor: Some(actor),
        target: Some(Target {
            kind: "audit_log".into(),
            id: None,
            name: Some("Audit log".into()),
        }),
        source: Some("auditlog".into()),
        details,
        ..NewEvent::default()
    }
}

/// One HTTP export in flight. When dropped before it finished (the client went away), it records the
/// export as incomplete.
struct Run {
    exporter: Exporter,
    actor: Actor,
    query: AuditQuery,
    format: ExportFormat,
    recorded: bool,
}

enum Phase {
    Running(Box<Run>),
    /// The failure marker was sent; what remains is to fail the transfer.
    Failing,
    Done,
}

async fn step(phase: Phase) -> Option<(Result<Bytes, std::io::Error>, Phase)> {
    let mut run = match phase {
        Phase::Running(run) => run,
        Phase::Failing => return Some((Err(std::io::Error::other("export failed")), Phase::Done)),
        Phase::Done => return None,
    };
    match run.exporter.next_chunk().await {
        Ok(Some(bytes)) => Some((Ok(bytes), Phase::Running(run))),
        Ok(None) => {
            run.record(true).await;
            None
        }
        Err(e) => {
            tracing::error!(error = %e, rows = run.exporter.rows, "export failed mid-stream");
            run.record(false).await;
            Some((Ok(run.exporter.failure_marker()), Phase::Failing))
        }
    }
}

impl Run {
    async fn record(&mut self, completed: bool) {
        self.recorded = true;
        let event = export_event(
            self.actor.clone(),
            self.format,
            &self.query,
            self.exporter.rows,
            completed,
        );
        if let Err(e) = self.exporter.store.record(event).await {
            tracing::error!(error = %e, "could not record audit.export");
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.recorded {
            let store = self.exporter.store.clone();
            let event = export_event(self.actor.clone(), self.format, &self.query, self.exporter.rows, false);
            tracing::info!(rows = self.exporter.rows, "export ended before completion");
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = store.record(event).await {
                        tracing::error!(error = %e, "could not record audit.export");
                    }
                });
            }
        }
    }
}

/// `GET /api/v1/events/export?format=csv|jsonl&<list filters>`.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let principal = caller.require(Scope::Read)?;
    let pairs = decode_pairs(raw.as_deref().unwrap_or(""));
    let format = match pairs.iter().find(|(k, _)| k == "format").map(|(_, v)| v.as_str()) {
        None | Some("") => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f)
            .ok_or_else(|| ApiError::bad_request("invalid_filter", "format", "format: must be `csv` or `jsonl`"))?,
    };
    let query = AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let run = Run {
        exporter: Exporter::new(state.store.clone(), query.clone(), format),
        actor: principal.actor(),
        query,
        format,
        recorded: false,
    };
    let body = Body::from_stream(futures::stream::unfold(Phase::Running(Box::new(run)), step));
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let (content_type, ext) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let disposition = format!("attachment; filename=\"audit-log-{date}.{ext}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
