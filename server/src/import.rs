//! `auditlog import FILE...`: JSONL audit files, validated line by line like the API. Two shapes are read:
//! this product's own events (JSONL export), and the daily-file shape of mail-server managers,
//! `{"timestamp", "user", "action", "target", "details"}`. Bad lines are reported (file:line) and skipped.
//!
//! Re-importing is idempotent: a line without an `id` gets one derived from its time and content, so the
//! same line always maps to the same event.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    path::Path,
    process::ExitCode,
};

use app::{
    model::{
        Actor, ActorType, FieldError, NewEvent, RecordedBy, Target, ValidEvent,
        event::{ActionKey, opt_string},
        time,
    },
    store::{AuditStore, Prepared},
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{cli::CliResult, config::ImportArgs};

/// Lines per transaction.
const BATCH: usize = 10_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

pub async fn run(db: &crate::config::DatabaseArgs, args: ImportArgs) -> CliResult {
    let store = db.open().await?;
    let started = std::time::Instant::now();
    let mut total = ImportSummary::default();
    for file in &args.files {
        let summary = import_file(&store, file, &args.source, &mut |line, err| {
            eprintln!("{}:{line}: {err}", file.display());
        })
        .await?;
        total.imported += summary.imported;
        total.duplicates += summary.duplicates;
        total.rejected += summary.rejected;
    }
    let stored = started.elapsed();
    eprintln!(
        "imported {}, duplicates {}, rejected {} ({:.1} s)",
        total.imported,
        total.duplicates,
        total.rejected,
        stored.as_secs_f64()
    );
    if args.no_index {
        eprintln!("the server indexes them for search when it runs");
    } else {
        let indexed = index_all(&store).await?;
        if indexed > 0 {
            let secs = (started.elapsed() - stored).as_secs_f64();
            eprintln!("indexed {indexed} events for search ({secs:.1} s)");
        }
    }
    store.close().await;
    Ok(if total.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Brings the free-text and target-id indexes up to date, with a progress bar, so that the log is fully
/// searchable when the import ends (a server left to catch up would read every row not yet indexed).
pub async fn index_all(store: &AuditStore) -> Result<u64, app::store::StoreError> {
    let backlog = store.index_backlog().await?;
    if backlog == 0 {
        return Ok(0);
    }
    eprintln!("indexing {backlog} events for search");
    let bar = progress_bar(backlog, "events");
    let mut done = 0;
    loop {
        let n = store.index_pending(20_000).await?;
        if n == 0 {
            break;
        }
        done += n;
        bar.inc(n);
    }
    bar.finish_and_clear();
    Ok(done)
}

/// A progress bar on standard error, drawn only when that is a terminal.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// One batch of parsed lines, handed from the reading thread to the inserting task.
struct Parsed {
    events: Vec<ValidEvent>,
    rejected: Vec<(u64, String)>,
    bytes_read: u64,
}

/// A batch on its way to the store: its events prepared (leaves hashed) on the reading thread.
struct Batch {
    events: Prepared,
    rejected: Vec<(u64, String)>,
    bytes_read: u64,
}

impl From<Parsed> for Batch {
    fn from(p: Parsed) -> Self {
        Batch {
            events: Prepared::new(p.events),
            rejected: p.rejected,
            bytes_read: p.bytes_read,
        }
    }
}

/// Imports one file, calling `report(line_number, error)` for each rejected line. Lines are read and
/// validated on a blocking thread while the previous batch is being inserted.
pub async fn import_file(
    store: &AuditStore,
    path: &Path,
    default_source: &str,
    report: &mut dyn FnMut(u64, String),
) -> Result<ImportSummary, Box<dyn std::error::Error + Send + Sync>> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size, "bytes");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let (shown, source) = (path.display().to_string(), default_source.to_string());
    let recorder = RecordedBy::import(&shown);
    let reader = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut batch = Parsed {
            events: Vec::with_capacity(BATCH),
            rejected: Vec::new(),
            bytes_read: 0,
        };
        let (mut line, mut number) = (String::new(), 0u64);
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| format!("{shown}: {e}"))?;
            if n == 0 {
                break;
            }
            number += 1;
            batch.bytes_read += n as u64;
            let text = line.trim();
            // The proof that ends this product's JSONL export (docs/trust.md) is not an event.
            let trailer = text.starts_with(concat!("{\"", "auditlog_proof", "\":"));
            if !text.is_empty() && !trailer {
                match parse_line(text, &source) {
                    Ok(mut event) => {
                        event.recorded_by = recorder.clone();
                        batch.events.push(event);
                    }
                    Err(e) => batch.rejected.push((number, e)),
                }
            }
            if batch.events.len() >= BATCH {
                let bytes_read = batch.bytes_read;
                let full = std::mem::replace(
                    &mut batch,
                    Parsed {
                        events: Vec::with_capacity(BATCH),
                        rejected: Vec::new(),
                        bytes_read,
                    },
                );
                if tx.blocking_send(full.into()).is_err() {
                    return Ok(()); // the inserting side stopped (and says why)
                }
            }
        }
        let _ = tx.blocking_send(batch.into());
        Ok(())
    });
    let mut summary = ImportSummary::default();
    while let Some(mut parsed) = rx.recv().await {
        for (number, error) in parsed.rejected.drain(..) {
            summary.rejected += 1;
            report(number, error);
        }
        flush(store, parsed.events, &mut summary).await?;
        bar.set_position(parsed.bytes_read);
    }
    reader.await.map_err(|e| e.to_string())??;
    bar.finish_and_clear();
    Ok(summary)
}

async fn flush(store: &AuditStore, batch: Prepared, summary: &mut ImportSummary) -> Result<(), app::store::StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = store.insert_prepared(batch).await?;
    summary.imported += outcome.accepted;
    summary.duplicates += outcome.duplicates;
    Ok(())
}

/// One line in either shape, validated like the API; the error says which field is wrong.
pub fn parse_line(text: &str, default_source: &str) -> Result<ValidEvent, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    // Our own export carries `received_at`: restore it, so an archive comes back as it was.
    let received_at = match value.get("received_at") {
        Some(Value::String(r)) => time::parse_rfc3339(r),
        _ => None,
    };
    let mut event = if value.get("actor").is_some() || value.get("user").is_none() {
        NewEvent::from_json(value).map_err(|e| e.to_string())?
    } else {
        daily_line(&value).map_err(|e| e.to_string())?
    };
    if event.source.is_none() {
        event.source = Some(default_source.to_string());
    }
    event.received_at = received_at;
    if event.id.is_none() {
        let Some(ts) = event.timestamp else {
            return Err(
                "timestamp: is required for a line without an id (so that importing twice stores it once)".into(),
            );
        };
        event.id = Some(derived_id(time::to_millis(ts), text));
    }
    event.validate().map_err(|e| e.to_string())
}

/// `{"timestamp", "user", "action", "target", "details"}`: the user is the actor, the target a name.
fn daily_line(v: &Value) -> Result<NewEvent, FieldError> {
    let text = |f: &str| opt_string(v.get(f)).map_err(|m| FieldError::invalid(f, m));
    let user = text("user")?.ok_or_else(|| FieldError::invalid("user", "is required"))?;
    let raw_action = text("action")?.ok_or_else(|| FieldError::invalid("action", "is required"))?;
    let action = normalise_action(&raw_action);
    let timestamp = match text("timestamp")? {
        Some(s) => Some(
            parse_loose_time(&s)
                .ok_or_else(|| FieldError::invalid("timestamp", "must be RFC 3339 or `YYYY-MM-DD HH:MM:SS` (UTC)"))?,
        ),
        None => None,
    };
    let category = action.split('.').next().unwrap_or("event").to_string();
    let target = text("target")?.map(|name| Target {
        kind: category,
        id: None,
        name: Some(name),
    });
    let actor = if user.contains('@') {
        Actor {
            kind: ActorType::User,
            id: None,
            name: None,
            email: Some(user),
        }
    } else {
        Actor {
            kind: ActorType::User,
            id: None,
            name: Some(user),
            email: None,
        }
    };
    let details = match v.get("details") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Default::default(),
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("message".into(), other.clone());
            m
        }
    };
    Ok(NewEvent {
        timestamp,
        action,
        actor: Some(actor),
        target,
        details,
        ..NewEvent::default()
    })
}

/// Daily files use keys such as `create_mailbox` or `Mailbox Created`; a dotted key is kept as it is.
fn normalise_action(raw: &str) -> String {
    if ActionKey::parse(raw).is_ok() {
        return raw.to_string();
    }
    let words: Vec<String> = raw
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    const VERBS: [&str; 10] = [
        "create", "add", "update", "edit", "delete", "remove", "login", "logout", "change", "restore",
    ];
    // `created`, `deleted`, `added`: the verb's base form.
    let base = |w: &str| {
        [Some(w), w.strip_suffix('d'), w.strip_suffix("ed")]
            .into_iter()
            .flatten()
            .find(|c| VERBS.contains(c))
            .map(str::to_string)
    };
    let verb = words.iter().enumerate().find_map(|(i, w)| base(w).map(|v| (i, v)));
    match verb {
        Some((i, verb)) if words.len() >= 2 => {
            let noun: Vec<&str> = words
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, w)| w.as_str())
                .collect();
            format!("{}.{verb}", noun.join("_"))
        }
        _ => format!("legacy.{}", words.join("_")),
    }
}

fn parse_loose_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    time::parse_rfc3339(s).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|t| chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc))
    })
}

/// A ULID whose time part is the event's and whose random part is a hash of the line.
fn derived_id(millis: i64, line: &str) -> String {
    let digest = Sha256::digest(line.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    let random = u128::from_be_bytes(random);
    ulid::Ulid::from_parts(millis.max(0) as u64, random).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_file_actions_become_dotted_keys() {
        assert_eq!(normalise_action("mailbox.create"), "mailbox.create");
        assert_eq!(normalise_action("create_mailbox"), "mailbox.create");
        assert_eq!(normalise_action("Delete Alias"), "alias.delete");
        assert_eq!(normalise_action("Mailbox Created"), "mailbox.create");
        assert_eq!(normalise_action("whatever"), "legacy.whatever");
    }

    #[test]
    fn a_daily_line_maps_user_to_actor_and_gets_a_stable_id() {
        let line = r#"{"timestamp":"2026-03-01 10:00:00","user":"admin@example.com","action":"create_mailbox","target":"info@example.com","details":{"quota":1}}"#;
        let a = parse_line(line, "import").unwrap();
        let b = parse_line(line, "import").unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.actor.email.as_deref(), Some("admin@example.com"));
        assert_eq!(a.action.as_str(), "mailbox.create");
        assert_eq!(a.target.unwrap().name.as_deref(), Some("info@example.com"));
    }

    #[test]
    fn a_line_without_id_or_time_is_rejected() {
        let err = parse_line(r#"{"action":"a.b","actor":{"type":"user","id":"1"}}"#, "import").unwrap_err();
        assert!(err.starts_with("timestamp"), "{err}");
    }
}
