//! Archive files (`--archive-dir`): every committed event appended, in commit order, to `DIR/YYYY-MM-DD.jsonl`
//! (the UTC day it was received) as its canonical JSON line, the same line a JSONL export writes. The files
//! are their own bookmark: at start the last line of the latest files says which event was archived last (a
//! line cut short by a crash is removed first), and the archive is completed from the database from there,
//! so that no event is missing and none is written twice. The retention purge deletes no event that is not
//! archived yet.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use app::store::AuditStore;

/// The files looked at for the last archived event: a few, since lines near midnight may land in the day
/// before the latest file after it.
const FILES_LOOKED_AT: usize = 3;

/// Events read from the database per write.
const BATCH: i64 = 2_000;

/// The archive directory.
#[derive(Clone, Debug)]
pub struct Archive {
    dir: PathBuf,
}

impl Archive {
    /// Opens (creating) the directory, removes a line a crash cut short at the end of the latest files, and
    /// returns the archive with the row id of the last event in it (0 when empty).
    pub fn open(dir: &Path) -> std::io::Result<(Archive, i64)> {
        std::fs::create_dir_all(dir)?;
        let mut days: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_day_file(p))
            .collect();
        days.sort();
        let mut last = 0;
        for file in days.iter().rev().take(FILES_LOOKED_AT) {
            if let Some(seq) = last_archived(file)? {
                last = last.max(seq);
            }
        }
        Ok((Archive { dir: dir.to_path_buf() }, last))
    }

    /// Appends every event committed after row id `after`, as they are committed, until the process ends.
    pub async fn run(self, store: AuditStore, mut after: i64) {
        let mut committed = store.committed_events();
        loop {
            committed.borrow_and_update();
            let batch = match store.pending_events(after, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "reading events to archive failed; retrying");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            if let Some(last) = batch.last().map(|e| e.seq) {
                let mut by_day: BTreeMap<String, Vec<u8>> = BTreeMap::new();
                for event in &batch {
                    let lines = by_day.entry(day_of(event.received_at)).or_default();
                    lines.extend_from_slice(event.json.as_bytes());
                    lines.push(b'\n');
                }
                let dir = self.dir.clone();
                let written = tokio::task::spawn_blocking(move || append(&dir, &by_day)).await;
                match written {
                    Ok(Ok(())) => {
                        after = last;
                        store.set_archived(after);
                        metrics::counter!("archived_events_total").increment(batch.len() as u64);
                    }
                    Ok(Err(e)) => {
                        // Whatever was written of the batch is completed at the next start; here the batch
                        // would be written twice, so the archive stops until then.
                        tracing::error!(error = %e, dir = %self.dir.display(), "writing the archive failed; archiving stops until restart");
                        return;
                    }
                    Err(_) => return,
                }
                if batch.len() as i64 == BATCH {
                    continue;
                }
            }
            // Woken by the next commit; a look every second all the same.
            let _ = tokio::time::timeout(Duration::from_secs(1), committed.changed()).await;
        }
    }
}

/// `YYYY-MM-DD.jsonl`.
fn is_day_file(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.len() == 16 && n.ends_with(".jsonl") && chrono::NaiveDate::parse_from_str(&n[..10], "%Y-%m-%d").is_ok()
    })
}

/// The UTC day of a Unix ms time, `YYYY-MM-DD`.
fn day_of(ms: i64) -> String {
    app::model::time::format_millis(ms)[..10].to_string()
}

/// Appends each day's lines to its file and syncs it.
fn append(dir: &Path, by_day: &BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for (day, lines) in by_day {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{day}.jsonl")))?;
        file.write_all(lines)?;
        file.sync_data()?;
    }
    Ok(())
}

/// The row id of the event on the last whole line of `file`; a last line without its newline (cut short by
/// a crash) is removed first.
fn last_archived(path: &Path) -> std::io::Result<Option<i64>> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let tail = read_tail(&mut file, len)?;
    let whole = match tail.iter().rposition(|b| *b == b'\n') {
        Some(end) => end + 1,
        None => 0,
    };
    if whole < tail.len() {
        let keep = len - (tail.len() - whole) as u64;
        tracing::warn!(file = %path.display(), "removing a line cut short at the end of an archive file");
        file.set_len(keep)?;
        file.sync_data()?;
    }
    let lines = &tail[..whole];
    let last_line = lines[..lines.len().saturating_sub(1)]
        .rsplit(|b| *b == b'\n')
        .next()
        .unwrap_or_default();
    if last_line.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_slice(last_line)
        .map_err(|e| std::io::Error::other(format!("{}: the last line is not an event: {e}", path.display())))?;
    let index = value["log_index"]
        .as_i64()
        .ok_or_else(|| std::io::Error::other(format!("{}: the last line has no log_index", path.display())))?;
    Ok(Some(index + 1))
}

/// The end of the file: enough to hold its last two lines (the chunk doubles until it does, or is the whole file).
fn read_tail(file: &mut File, len: u64) -> std::io::Result<Vec<u8>> {
    let mut chunk = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(chunk);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::with_capacity((len - start) as usize);
        file.read_to_end(&mut tail)?;
        if start == 0 || tail.iter().filter(|b| **b == b'\n').count() >= 2 {
            return Ok(tail);
        }
        chunk *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_is_removed_and_the_last_whole_line_counts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("2026-12-04.jsonl");
        std::fs::write(&file, "{\"log_index\":0}\n{\"log_index\":1}\n{\"log_in").unwrap();
        let (_, last) = Archive::open(dir.path()).unwrap();
        assert_eq!(last, 2);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"log_index\":0}\n{\"log_index\":1}\n"
        );
        std::fs::write(dir.path().join("2026-12-05.jsonl"), "{\"log_in").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an archive").unwrap();
        assert_eq!(
            Archive::open(dir.path()).unwrap().1,
            2,
            "an empty latest file: the day before counts"
        );
        assert_eq!(std::fs::read(dir.path().join("2026-12-05.jsonl")).unwrap(), b"");
    }
}
