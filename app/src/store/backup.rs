//! A consistent copy of the live database, safe while the server runs: SQLite's online backup, a few hundred
//! pages at a time, started again by SQLite whenever a write lands in between (the copy is of one moment).

use std::path::Path;

use rusqlite::backup::{Backup, Progress, StepResult};

use super::{error::StoreError, handle::AuditStore, sql::open_connection};

/// Pages copied per step; between steps the writer may go on.
const PAGES_PER_STEP: i32 = 1024;

impl AuditStore {
    /// Copies the database to `dest`, a new file (an existing file is refused, naming `file`), calling
    /// `progress(copied, total)` in pages as it goes. Returns how many events the copy holds.
    pub async fn backup(
        &self,
        dest: &Path,
        mut progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<u64, StoreError> {
        if dest.exists() {
            return Err(crate::model::FieldError::invalid("file", format!("{} exists already", dest.display())).into());
        }
        let (source, dest) = (self.path.clone(), dest.to_path_buf());
        tokio::task::spawn_blocking(move || -> Result<u64, StoreError> {
            let from = open_connection(&source, true, 8_192)?;
            let mut to = rusqlite::Connection::open(&dest)?;
            {
                let backup = Backup::new(&from, &mut to)?;
                loop {
                    let step = backup.step(PAGES_PER_STEP)?;
                    let Progress { remaining, pagecount } = backup.progress();
                    let total = pagecount.max(0) as u64;
                    progress(total.saturating_sub(remaining.max(0) as u64), total);
                    match step {
                        StepResult::Done => break,
                        StepResult::More => {}
                        // The writer holds a lock for a moment: try again shortly.
                        _ => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            }
            let ok: String = to.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if ok != "ok" {
                return Err(StoreError::corrupt(
                    "backup",
                    &dest.display().to_string(),
                    "integrity_check",
                    ok,
                ));
            }
            let events: i64 = to.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
            Ok(events as u64)
        })
        .await?
    }
}
