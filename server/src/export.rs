//! Export: every event matching an `AuditQuery`, as CSV or JSONL, produced chunk by chunk so memory stays
//! flat. The same `Exporter` feeds the HTTP response and `auditlog export`.
//!
//! A client that disconnects drops the stream, and with it the walk: no further chunk is read. A database
//! error mid-stream writes a last line saying the export is incomplete, then fails the transfer, so the file
//! can never pass for complete.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use app::{
    model::{Actor, AuditQuery, NewEvent, RecordedBy, ip, query::decode_pairs, recorded, time},
    store::{AuditStore, ExportRecord, Scope, StoreError},
};
use axum::{
    body::{Body, Bytes},
    extract::{RawQuery, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::{borrow::Cow, time::Duration};
use tokio::sync::mpsc;

use crate::{auth::Caller, config::ExportFormat, error::ApiError, state::AppState};

/// The file goes out in pieces of about this many bytes.
const PIECE_BYTES: usize = 256 * 1024;

pub const CSV_HEADER: [&str; 16] = [
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
    "tenant",
    "ip",
    "user_agent",
    "details",
];

/// One export under way: a blocking thread reads the rows and renders them; the pieces of the file arrive
/// here in order. Dropping it stops the thread at its next piece (nobody is left to read it).
pub struct Export {
    pieces: mpsc::Receiver<Bytes>,
    walk: tokio::task::JoinHandle<Result<u64, StoreError>>,
    rows: Arc<AtomicU64>,
    format: ExportFormat,
}

impl Export {
    /// Starts exporting everything matching the filters of `query`. With `stall`, the export stops (with an
    /// error) when its pieces wait that long for a reader: a client that stopped reading gives its turn back.
    /// With `proof` (JSONL only), the file ends with the proof of its events (docs/trust.md).
    pub async fn start(
        store: &AuditStore,
        query: &AuditQuery,
        format: ExportFormat,
        stall: Option<Duration>,
        proof: bool,
        caller: Option<String>,
    ) -> Result<Export, StoreError> {
        let proof = proof && format == ExportFormat::Jsonl;
        let plan = store.export_plan(query, caller).await?;
        let (tx, pieces) = mpsc::channel::<Bytes>(4);
        let rows = Arc::new(AtomicU64::new(0));
        let counter = rows.clone();
        let runtime = tokio::runtime::Handle::current();
        let store = store.clone();
        let walk = tokio::task::spawn_blocking(move || {
            let mut stalled = false;
            // Hands a piece on; false when nobody reads any more (gone, or stalled past `stall`). Once stalled,
            // nothing more is offered: the rest of the file would wait as long again before the turn is free.
            let mut send = |piece: Bytes| match stall {
                _ if stalled => false,
                None => tx.blocking_send(piece).is_ok(),
                Some(limit) => match runtime.block_on(tokio::time::timeout(limit, tx.send(piece))) {
                    Ok(sent) => sent.is_ok(),
                    Err(_) => {
                        stalled = true;
                        false
                    }
                },
            };
            let mut file = Renderer::new(format);
            // The proof of the file's events needs their log indexes, kept as it goes.
            let mut indexes = Vec::new();
            let walked = plan.walk(|record| {
                file.record(record);
                if proof {
                    indexes.push(record.log_index as u64);
                }
                counter.fetch_add(1, Ordering::Relaxed);
                file.len() < PIECE_BYTES || send(file.take())
            });
            // What was rendered goes out before the end (or before the failure marker).
            let delivered = send(file.take());
            if proof && walked.is_ok() && delivered {
                let proof = runtime.block_on(store.export_proof(indexes))?;
                send(Bytes::from(proof.line()));
            }
            match walked {
                Ok(_) if stalled => Err(StoreError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client stopped reading the export",
                ))),
                other => other,
            }
        });
        Ok(Export {
            pieces,
            walk,
            rows,
            format,
        })
    }

    /// Rows rendered so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// The next piece of the file; `None` once the export is complete. The first piece holds at least the
    /// header. After an error nothing more comes.
    pub async fn next(&mut self) -> Option<Result<Bytes, StoreError>> {
        loop {
            match self.pieces.recv().await {
                Some(piece) if piece.is_empty() => continue,
                Some(piece) => return Some(Ok(piece)),
                None => break,
            }
        }
        match (&mut self.walk).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(Err(e)),
            Err(e) => Some(Err(StoreError::Task(e))),
        }
    }

    /// The line that ends a file whose export failed part-way.
    pub fn failure_marker(&self) -> Bytes {
        let message = format!(
            "EXPORT INCOMPLETE: the export failed after {} rows; this file is not complete",
            self.rows()
        );
        match self.format {
            ExportFormat::Csv => {
                let mut out = Vec::new();
                write_csv_record(&mut out, [message.as_str()]);
                Bytes::from(out)
            }
            ExportFormat::Jsonl => Bytes::from(format!(
                "{}\n",
                json!({"error": {"code": "export_incomplete", "message": message}})
            )),
        }
    }
}

/// Renders rows into the bytes of the file.
enum Renderer {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Jsonl(Vec<u8>),
}

fn piece_buffer() -> Vec<u8> {
    Vec::with_capacity(PIECE_BYTES + 64 * 1024)
}

impl Renderer {
    fn new(format: ExportFormat) -> Renderer {
        let mut out = piece_buffer();
        match format {
            ExportFormat::Csv => {
                out.extend_from_slice("\u{feff}".as_bytes());
                let mut w = csv_writer(out);
                let _ = w.write_record(CSV_HEADER);
                Renderer::Csv(Box::new(w))
            }
            ExportFormat::Jsonl => Renderer::Jsonl(out),
        }
    }

    fn record(&mut self, r: &ExportRecord<'_>) {
        match self {
            Renderer::Csv(w) => write_csv_row(w, r),
            Renderer::Jsonl(out) => r.write_jsonl(out),
        }
    }

    /// Bytes rendered and not yet taken (give or take the csv writer's own small buffer).
    fn len(&self) -> usize {
        match self {
            Renderer::Csv(w) => w.get_ref().len(),
            Renderer::Jsonl(out) => out.len(),
        }
    }

    fn take(&mut self) -> Bytes {
        match self {
            Renderer::Csv(w) => {
                let full = std::mem::replace(w, Box::new(csv_writer(piece_buffer())));
                // Flushing into a Vec cannot fail.
                Bytes::from(full.into_inner().unwrap_or_default())
            }
            Renderer::Jsonl(out) => Bytes::from(std::mem::replace(out, piece_buffer())),
        }
    }
}

fn csv_writer(out: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// One CSV record (RFC 4180 quoting, CRLF), every cell neutralised against formula injection.
fn write_csv_record<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    let mut w = csv_writer(std::mem::take(out));
    let _ = w.write_record(cells.into_iter().map(neutralise_formula));
    *out = w.into_inner().unwrap_or_default();
}

/// The row as the spec's CSV columns: IPs masked like the viewer, `details` as its JSON text.
fn write_csv_row(w: &mut csv::Writer<Vec<u8>>, r: &ExportRecord<'_>) {
    let timestamp = time::format_millis(r.ts);
    let ip = r.ip.map(ip::mask);
    let cells: [&str; 16] = [
        r.id,
        &timestamp,
        r.action,
        r.outcome,
        r.actor_type,
        r.actor_id.unwrap_or(""),
        r.actor_name.unwrap_or(""),
        r.actor_email.unwrap_or(""),
        r.target_type.unwrap_or(""),
        r.target_id.unwrap_or(""),
        r.target_name.unwrap_or(""),
        r.source,
        r.tenant.unwrap_or(""),
        ip.as_deref().unwrap_or(""),
        r.user_agent.unwrap_or(""),
        r.details,
    ];
    // Writing to a Vec cannot fail.
    let _ = w.write_record(cells.iter().map(|cell| neutralise_formula(cell)));
}

/// A cell that a spreadsheet would run as a formula gets a leading `'`.
pub fn neutralise_formula(cell: &str) -> Cow<'_, [u8]> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned([b"'", cell.as_bytes()].concat()),
        _ => Cow::Borrowed(cell.as_bytes()),
    }
}

/// The `audit.export` event of an export of `query`'s events (see `app::model::recorded::exported`). An export
/// of one tenant's events is one of that tenant's events: its viewers see who took their data.
pub fn export_event(actor: Actor, format: ExportFormat, query: &AuditQuery, rows: u64, completed: bool) -> NewEvent {
    NewEvent {
        tenant: query.tenant.clone(),
        ..recorded::exported(
            actor,
            format.as_str(),
            query.filters_only().to_query_string(),
            rows,
            completed,
        )
    }
}

/// One HTTP export in flight. When dropped before it finished (the client went away), it records the
/// export as incomplete.
struct Run {
    export: Export,
    store: AuditStore,
    actor: Actor,
    /// Who the `audit.export` event is recorded by: the caller's token or session.
    recorder: RecordedBy,
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
        Phase::Failing => {
            // Give the connection a moment to send the marker: an error from the body aborts it at once,
            // dropping whatever it had not written yet.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            return Some((Err(std::io::Error::other("export failed")), Phase::Done));
        }
        Phase::Done => return None,
    };
    match run.export.next().await {
        Some(Ok(bytes)) => Some((Ok(bytes), Phase::Running(run))),
        None => {
            run.record(true).await;
            None
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, rows = run.export.rows(), "export failed mid-stream");
            run.record(false).await;
            Some((Ok(run.export.failure_marker()), Phase::Failing))
        }
    }
}

impl Run {
    async fn record(&mut self, completed: bool) {
        self.recorded = true;
        metrics::counter!("export_rows_total").increment(self.export.rows());
        let event = export_event(
            self.actor.clone(),
            self.format,
            &self.query,
            self.export.rows(),
            completed,
        );
        if let Err(e) = self.store.record_by(event, self.recorder.clone()).await {
            tracing::error!(error = %e, "could not record audit.export");
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        metrics::gauge!("exports_active").decrement(1);
        if !self.recorded {
            let store = self.store.clone();
            let rows = self.export.rows();
            let event = export_event(self.actor.clone(), self.format, &self.query, rows, false);
            let recorder = self.recorder.clone();
            tracing::info!(rows, "export ended before completion");
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = store.record_by(event, recorder).await {
                        tracing::error!(error = %e, "could not record audit.export");
                    }
                });
            }
        }
    }
}

/// `GET /api/v1/events/export?format=csv|jsonl&<list filters>[&proof=true]`.
#[utoipa::path(
    get,
    path = "/api/v1/events/export",
    tag = "events",
    params(
        crate::openapi::Filters,
        ("format" = Option<String>, Query, description = "`csv` (the default) or `jsonl`"),
        ("proof" = Option<String>, Query, description = "`true`: a JSONL export ends with a signed proof of its events"),
    ),
    responses(
        (status = 200, description = "Every matching event, streamed", content(
            (String = "text/csv; charset=utf-8"),
            (String = "application/x-ndjson"),
        )),
        crate::openapi::BadRequest,
        crate::openapi::Unauthorized,
        crate::openapi::Forbidden,
        (status = 429, description = "The caller already runs as many exports as one may (2); `Retry-After` says when to try again", body = crate::error::ErrorBody),
        crate::openapi::Unavailable
    )
)]
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
    let proof = match pairs.iter().find(|(k, _)| k == "proof").map(|(_, v)| v.as_str()) {
        None | Some("" | "false" | "off") => false,
        Some("true" | "on") if format == ExportFormat::Jsonl => true,
        Some("true" | "on") => {
            return Err(ApiError::bad_request(
                "invalid_filter",
                "proof",
                "proof: only a JSONL export carries a proof",
            ));
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_filter",
                "proof",
                "proof: must be `true` or `false`",
            ));
        }
    };
    let filters = pairs.iter().filter(|(k, _)| k != "proof");
    let query = AuditQuery::from_pairs(filters.map(|(k, v)| (k.as_str(), v.as_str())))?.within(principal.tenant());
    let stall = Some(state.store.tuning().export_stall);
    let export = Export::start(&state.store, &query, format, stall, proof, Some(principal.key())).await?;
    // Counted once it runs (`Run`'s drop counts it out): a refused export never ran.
    metrics::gauge!("exports_active").increment(1);
    let run = Run {
        export,
        store: state.store.clone(),
        actor: principal.actor(),
        recorder: principal.recorder(),
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A cell: any text, with the characters CSV must quote and those a spreadsheet reads as a formula.
    fn cell() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{0,12}", "[=+@\t\r\n\",; '-]{0,6}", "[=+@-]?[a-z0-9\"\r\n,]{0,8}"]
    }

    proptest! {
        /// What the csv crate's reader reads back is each cell as written, with a `'` before those a
        /// spreadsheet would run as a formula.
        #[test]
        fn csv_records_read_back_whole(cells in prop::collection::vec(cell(), 1..8)) {
            let mut out = Vec::new();
            write_csv_record(&mut out, cells.iter().map(String::as_str));
            prop_assert!(out.ends_with(b"\r\n"));
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_slice());
            let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(records.len(), 1);
            let read: Vec<&str> = records[0].iter().collect();
            let expected: Vec<String> = cells
                .iter()
                .map(|c| match c.chars().next() {
                    Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{c}"),
                    _ => c.clone(),
                })
                .collect();
            prop_assert_eq!(read, expected);
        }
    }
}
