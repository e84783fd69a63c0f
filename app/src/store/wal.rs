//! The WAL's own checkpoints, on a thread beside the event writer.

use std::{path::Path, sync::mpsc, time::Duration};

use rusqlite::Connection;

use super::{error::StoreError, sql::open_connection};

/// Starts `checkpoints` on a connection and thread of their own; the writer tells it of each commit through the
/// sender returned (a full channel: a checkpoint is due already).
pub(super) fn spawn_checkpoints(path: &Path, every: Duration) -> Result<mpsc::SyncSender<()>, StoreError> {
    let conn = open_connection(path, false, 2_048)?;
    let (committed, commits) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("auditlog-checkpoint".into())
        .spawn(move || checkpoints(&conn, &commits, every))?;
    Ok(committed)
}

/// Copies committed pages from the WAL into the database file (a PASSIVE checkpoint: it never blocks the
/// writer or a reader) after commits, on its own connection and thread. Inside the writer's commits this
/// reading, writing and syncing of files was about a fifth of the writer's time during an import.
///
/// The writer keeps SQLite's automatic checkpoint all the same (every 32,000 pages, 125 MiB, of WAL): under steady
/// writes a checkpoint on another connection is never quite complete when the writer starts its next
/// transaction, and only then does SQLite start the WAL over from its beginning; without it the WAL grew for
/// as long as the writes went on, each new page of it costing the file system more (single-event ingest fell
/// by a third). By then this thread has copied almost every page, so the writer's own checkpoint is short.
///
/// Ends when the writer does; SQLite checkpoints once more when the last connection closes.
fn checkpoints(conn: &Connection, commits: &mpsc::Receiver<()>, every: Duration) {
    while commits.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next commit retries it");
        }
        std::thread::sleep(every);
    }
}
