//! What lets anyone check the log (docs/trust.md): the verifier key, signed checkpoints, audit paths and
//! consistency proofs, and the whole check `auditlog verify` and the `Verify log` button run.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{
    error::StoreError,
    handle::AuditStore,
    log::{STORED_EVERY, SqlNodes, latest_checkpoint, logged_size, node_key},
    schema::{StoredEvent, full_columns},
    sql::open_connection,
};
use crate::{
    model::{Actor, CheckpointRef, FieldError, RecordedBy, VerifyOutcome, VerifyStatus, recorded, time},
    trust::{
        Frontier, Hash, Verifier,
        export::{ExportProof, b64},
        leaf_hash_of,
        tree::{consistency_proof, inclusion_proof, multiproof},
    },
};

/// The audit path of one event in a tree (`GET /api/v1/events/{id}/proof`), hashes in base64.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct InclusionProof {
    pub log_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
}

/// A consistency proof between two tree sizes (`GET /api/v1/log/consistency`), hashes in base64.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<String>,
}

/// What a verification found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Events whose leaf was recomputed and matched.
    pub events: u64,
    /// The log's size: every leaf ever appended.
    pub tree_size: u64,
    /// Checkpoints whose root and signature were checked.
    pub checkpoints: u64,
    /// The latest checkpoint checked: its tree size and when it was made (Unix ms).
    pub latest: Option<(u64, i64)>,
    /// Each problem, in log order, as `auditlog verify` prints it.
    pub problems: Vec<String>,
    /// The runs of log indexes a retention purge removed (not problems: their hashes are kept).
    pub purged: Vec<String>,
}

impl AuditStore {
    /// The verifier key of the log's checkpoints, `<origin>+<key id>+<base64 key>`.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// Runs `work` on a read-only connection of its own, on a blocking thread.
    async fn read_log<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || work(&open_connection(&path, true, 2_048)?)).await?
    }

    /// The latest signed checkpoint: its tree size and note. None before the first.
    pub async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.read_log(|conn| Ok(latest_checkpoint(conn)?)).await
    }

    /// The audit path of event `id` in the tree of `tree_size` leaves (default: the latest checkpoint's).
    /// `NotFound` when there is no such event or it is not in that tree.
    pub async fn inclusion_proof(&self, id: &str, tree_size: Option<u64>) -> Result<InclusionProof, StoreError> {
        let id = id.to_string();
        self.read_log(move |conn| {
            let size = tree_size_or_latest(conn, tree_size, "tree_size")?;
            let index: Option<i64> = conn
                .query_row("SELECT seq - 1 FROM events WHERE id = ?1", [&id], |r| r.get(0))
                .optional()?;
            let index = index
                .map(|i| i as u64)
                .filter(|&i| i < size)
                .ok_or(StoreError::NotFound)?;
            let mut nodes = SqlNodes(conn);
            let leaf = nodes.subtree(0, index)?;
            let hashes = inclusion_proof(&mut nodes, index, size)?;
            Ok(InclusionProof {
                log_index: index,
                tree_size: size,
                leaf_hash: b64(&leaf),
                hashes: hashes.iter().map(b64).collect(),
            })
        })
        .await
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to` (default: the latest
    /// checkpoint's), 1 ≤ from ≤ to ≤ the log's size.
    pub async fn consistency_proof(&self, from: u64, to: Option<u64>) -> Result<ConsistencyProof, StoreError> {
        self.read_log(move |conn| {
            let to = tree_size_or_latest(conn, to, "to")?;
            if from == 0 || from > to {
                return Err(FieldError::invalid("from", format!("must be from 1 to {to}")).into());
            }
            let hashes = consistency_proof(&mut SqlNodes(conn), from, to)?;
            Ok(ConsistencyProof {
                from,
                to,
                hashes: hashes.iter().map(b64).collect(),
            })
        })
        .await
    }

    /// The latest checkpoint, when it covers the event at `log_index`.
    pub async fn checkpoint_covering(&self, log_index: u64) -> Result<Option<CheckpointRef>, StoreError> {
        let latest: Option<(i64, i64)> =
            sqlx::query_as("SELECT tree_size, made_at FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1")
                .fetch_optional(&self.read)
                .await?;
        Ok(latest
            .filter(|&(size, _)| log_index < size as u64)
            .map(|(size, made_at)| CheckpointRef {
                tree_size: size as u64,
                made_at: time::format_millis(made_at),
            }))
    }

    /// Starts verifying the whole log in the background, as `actor` asked (through `by`), unless a
    /// verification is running; false when one is. The outcome is recorded as `audit.verify` and kept for
    /// `verification`.
    pub fn start_verification(&self, actor: Actor, by: RecordedBy) -> bool {
        {
            let Ok(mut status) = self.verification.lock() else {
                return false;
            };
            if status.running {
                return false;
            }
            *status = VerifyStatus {
                running: true,
                ..VerifyStatus::default()
            };
        }
        let store = self.clone();
        tokio::spawn(async move {
            let shown = store.verification.clone();
            let report = store
                .verify(move |done, total| {
                    if let Ok(mut s) = shown.lock() {
                        (s.done, s.total) = (done, total);
                    }
                })
                .await;
            let outcome = match report {
                Ok(r) => VerifyOutcome {
                    events: r.events,
                    checkpoints: r.checkpoints,
                    latest_checkpoint_at: r.latest.map(|(_, at)| time::format_millis(at)),
                    problems: r.problems,
                },
                Err(e) => {
                    tracing::error!(error = %e, "verifying the log failed");
                    VerifyOutcome {
                        events: 0,
                        checkpoints: 0,
                        latest_checkpoint_at: None,
                        problems: vec!["the log could not be read to the end; the server's log says why".into()],
                    }
                }
            };
            if let Err(e) = store.record_by(recorded::verified(actor, &outcome), by).await {
                tracing::error!(error = %e, "could not record audit.verify");
            }
            if let Ok(mut s) = store.verification.lock() {
                s.running = false;
                s.result = Some(outcome);
            }
        });
        true
    }

    /// How the running (or last) verification stands.
    pub fn verification(&self) -> VerifyStatus {
        self.verification.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The trailer of a JSONL export of the events at these log indexes: a checkpoint signed now (so that it
    /// covers every event committed before the call), their leaves, and the multiproof to its root.
    pub async fn export_proof(&self, mut indexes: Vec<u64>) -> Result<ExportProof, StoreError> {
        self.writer.checkpoint_now().await?;
        indexes.sort_unstable();
        indexes.dedup();
        self.read_log(move |conn| {
            let (size, checkpoint) = latest_checkpoint(conn)?.ok_or(StoreError::NotFound)?;
            if indexes.last().is_some_and(|&i| i >= size) {
                return Err(StoreError::corrupt(
                    "log_checkpoints",
                    &size.to_string(),
                    "tree_size",
                    "behind the export",
                ));
            }
            let mut nodes = SqlNodes(conn);
            let leaves = indexes
                .iter()
                .map(|&i| nodes.subtree(0, i).map(|h| b64(&h)))
                .collect::<Result<Vec<_>, _>>()?;
            let hashes = multiproof(&mut nodes, &indexes, size)?;
            Ok(ExportProof {
                checkpoint,
                leaves,
                hashes: hashes.iter().map(b64).collect(),
            })
        })
        .await
    }

    /// Checks the whole log: every event's leaf recomputed from the event as stored, every stored subtree,
    /// every checkpoint's root and signature. `progress(done, total)` in log indexes.
    pub async fn verify(&self, progress: impl FnMut(u64, u64) + Send + 'static) -> Result<VerifyReport, StoreError> {
        let verifier = Verifier::parse(&self.signer.verifier_key()).map_err(StoreError::Log)?;
        self.read_log(move |conn| verify(conn, &verifier, progress)).await
    }
}

use crate::trust::Nodes as _;

/// `asked`, checked against the log's size, or the latest checkpoint's size.
fn tree_size_or_latest(conn: &Connection, asked: Option<u64>, field: &str) -> Result<u64, StoreError> {
    let size = logged_size(conn)?;
    match asked {
        Some(n) if n == 0 || n > size => {
            Err(FieldError::invalid(field, format!("must be from 1 to the log's size, {size}")).into())
        }
        Some(n) => Ok(n),
        None => Ok(latest_checkpoint(conn)?.ok_or(StoreError::NotFound)?.0),
    }
}

/// A stored checkpoint, as verification reads it.
struct StoredCheckpoint {
    size: u64,
    root: Vec<u8>,
    note: String,
    made_at: i64,
}

/// The check of `AuditStore::verify`, in one read transaction (one snapshot of the log).
fn verify(
    conn: &Connection,
    verifier: &Verifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    conn.execute_batch("BEGIN")?;
    let mut report = VerifyReport::default();
    let mut checkpoints = stored_checkpoints(conn)?.into_iter().peekable();
    let mut leaves = conn.prepare("SELECT log_index, hash FROM log_leaves ORDER BY log_index")?;
    let mut leaves = leaves.query([])?;
    let mut events = conn.prepare(&format!("SELECT {} FROM events ORDER BY seq", full_columns()))?;
    let mut events = events.query([])?;
    let mut next_event = events.next()?.map(StoredEvent::read).transpose()?;
    let mut node = conn.prepare("SELECT hash FROM log_nodes WHERE id = ?1")?;
    let total = logged_size(conn)?;
    let mut frontier = Frontier::default();
    let mut gaps = Gaps::new(conn)?;
    while let Some(row) = leaves.next()? {
        let index = row.get::<_, i64>(0)? as u64;
        let stored: Hash = row.get::<_, Vec<u8>>(1)?.try_into().unwrap_or([0; 32]);
        if index != frontier.size() {
            report
                .problems
                .push(format!("log leaves {}..{} missing", frontier.size(), index - 1));
            break;
        }
        let leaf = match next_event.take_if(|e| e.log_index as u64 == index) {
            Some(event) => {
                next_event = events.next()?.map(StoredEvent::read).transpose()?;
                let id = event.id.clone();
                let leaf = leaf_hash_of(&event.decode()?);
                if leaf == stored {
                    report.events += 1;
                } else {
                    report
                        .problems
                        .push(format!("event {id} (log index {index}) does not match its leaf"));
                }
                leaf
            }
            None => {
                gaps.absent(index, &mut report);
                stored
            }
        };
        gaps.present(index, &mut report);
        push_checked(&mut frontier, leaf, &mut node, &mut report)?;
        while let Some(cp) = checkpoints.next_if(|cp| cp.size == frontier.size()) {
            check_checkpoint(&cp, &frontier.root(), verifier, &mut report);
        }
        if frontier.size().is_multiple_of(65_536) {
            progress(frontier.size(), total);
        }
    }
    gaps.end(&mut report);
    if let Some(event) = next_event {
        report.problems.push(format!(
            "event {} (log index {}) is not in the log",
            event.id, event.log_index
        ));
    }
    for cp in checkpoints {
        report.problems.push(format!(
            "checkpoint of {} events is beyond the log's {} leaves",
            cp.size,
            frontier.size()
        ));
    }
    report.tree_size = frontier.size();
    progress(frontier.size(), total);
    conn.execute_batch("COMMIT")?;
    Ok(report)
}

/// The log indexes without an event, run by run: purged by a retention purge (`log_purges`), or missing.
struct Gaps {
    /// (first, last, purge) of every purge's run, by first.
    purged: Vec<(u64, u64, String)>,
    /// The run being read: (first, last, the purge that removed it, if one did).
    open: Option<(u64, u64, Option<String>)>,
}

impl Gaps {
    fn new(conn: &Connection) -> rusqlite::Result<Self> {
        let purged = conn
            .prepare("SELECT first, last, purge FROM log_purges ORDER BY first")?
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Gaps { purged, open: None })
    }

    /// The purge that removed the event at `index`, if one did.
    fn purge_of(&self, index: u64) -> Option<String> {
        let at = self.purged.partition_point(|(first, _, _)| *first <= index);
        at.checked_sub(1)
            .map(|i| &self.purged[i])
            .filter(|(_, last, _)| index <= *last)
            .map(|(_, _, purge)| purge.clone())
    }

    /// No event holds `index`.
    fn absent(&mut self, index: u64, report: &mut VerifyReport) {
        let purge = self.purge_of(index);
        match &mut self.open {
            Some((_, last, by)) if *by == purge && *last + 1 == index => *last = index,
            _ => {
                self.end(report);
                self.open = Some((index, index, purge));
            }
        }
    }

    /// An event holds `index`: a run before it ends.
    fn present(&mut self, index: u64, report: &mut VerifyReport) {
        if self.open.as_ref().is_some_and(|(_, last, _)| *last < index) {
            self.end(report);
        }
    }

    fn end(&mut self, report: &mut VerifyReport) {
        match self.open.take() {
            Some((first, last, Some(purge))) => report.purged.push(format!(
                "log indexes {first}..{last} purged by retention (event {purge})"
            )),
            Some((first, last, None)) => report.problems.push(format!("log indexes {first}..{last} missing")),
            None => {}
        }
    }
}

/// Every stored checkpoint, smallest first.
fn stored_checkpoints(conn: &Connection) -> rusqlite::Result<Vec<StoredCheckpoint>> {
    conn.prepare("SELECT tree_size, root, note, made_at FROM log_checkpoints ORDER BY tree_size")?
        .query_map([], |r| {
            Ok(StoredCheckpoint {
                size: r.get::<_, i64>(0)? as u64,
                root: r.get(1)?,
                note: r.get(2)?,
                made_at: r.get(3)?,
            })
        })?
        .collect()
}

/// Appends `leaf` to `frontier`, checking each subtree it completes at a stored level against the one stored
/// (proofs are made from those).
fn push_checked(
    frontier: &mut Frontier,
    leaf: Hash,
    stored: &mut rusqlite::Statement<'_>,
    report: &mut VerifyReport,
) -> Result<(), StoreError> {
    let mut completed = Vec::new();
    frontier.push(leaf, |level, index, hash| {
        if level % STORED_EVERY == 0 {
            completed.push((level, index, *hash));
        }
    });
    for (level, index, hash) in completed {
        let kept: Option<Vec<u8>> = stored
            .query_row(params![node_key(level, index)], |r| r.get(0))
            .optional()?;
        if kept.as_deref() != Some(&hash[..]) {
            report.problems.push(format!(
                "stored subtree at level {level}, index {index} does not match the events"
            ));
        }
    }
    Ok(())
}

/// Checks one stored checkpoint against the root recomputed at its size.
fn check_checkpoint(cp: &StoredCheckpoint, root: &Hash, verifier: &Verifier, report: &mut VerifyReport) {
    match verifier.open(&cp.note) {
        Err(e) => report.problems.push(format!("checkpoint of {} events: {e}", cp.size)),
        Ok(signed) if signed.size != cp.size || signed.root[..] != cp.root[..] => report.problems.push(format!(
            "checkpoint of {} events: the signed note is not the stored checkpoint",
            cp.size
        )),
        Ok(signed) if signed.root != *root => report.problems.push(format!(
            "checkpoint of {} events: its root does not match the events",
            cp.size
        )),
        Ok(_) => {
            report.checkpoints += 1;
            report.latest = Some((cp.size, cp.made_at));
        }
    }
}
