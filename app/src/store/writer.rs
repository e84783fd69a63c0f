//! Group commit. Every event insert goes through one writer thread with its own SQLite connection: it takes
//! whatever requests are waiting, inserts them all in one transaction, commits, and only then answers each
//! request. Under concurrent load many requests share one commit; alone, a request commits by itself. Either
//! way an event is acknowledged only once it is committed.
//!
//! The writer talks to SQLite directly (rusqlite, the same bundled library sqlx uses) with one prepared
//! statement reused for every row: going through sqlx's connection worker would cost more per row than the
//! insert itself.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use rusqlite::{Connection, TransactionBehavior, functions::FunctionFlags};
use rustc_hash::FxHashMap as HashMap;
use tokio::sync::{mpsc, oneshot, watch};

use super::{
    derived::{Counted, Derived, KnownActors},
    error::StoreError,
    indexer::index_batch,
    log::Log,
    prepared::{Row, prepare},
    purge::{Batch, purge_batch},
    schema::now_millis,
    sql::open_connection,
    tuning::Tuning,
    wal,
};
use crate::{
    model::{RecordedBy, ValidEvent},
    trust::Signer,
};

struct Request {
    rows: Vec<Row>,
    reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// The SQL function the trigger `events_no_delete` (migration 15) asks before an event is deleted: only the
/// writer's connection has it, and it answers 1 only while the retention purge deletes.
const PURGING_FN: &str = "auditlog: events are append-only, only the retention purge deletes";

/// What the writer thread is asked to do.
enum Job {
    Insert(Request),
    /// Index up to this many events for free text.
    Index(i64, oneshot::Sender<Result<u64, StoreError>>),
    /// A change to the panel's tables and the events that record it, in one transaction.
    Change(ChangeFn, oneshot::Sender<Result<(), StoreError>>),
    /// Signs a checkpoint of the log when events were committed since the last one; answers once it is
    /// stored when asked by a caller (not by the timer).
    Checkpoint(Option<oneshot::Sender<Result<(), StoreError>>>),
    /// One batch of a retention purge.
    Purge(PurgeBatch, oneshot::Sender<Result<Batch, StoreError>>),
    /// Checkpoints the log, then copies the whole WAL into the database and empties it
    /// (`wal_checkpoint(TRUNCATE)`), when no reader holds an older snapshot: at close, so that no WAL stays
    /// beside the database.
    Truncate(oneshot::Sender<Result<(), StoreError>>),
    /// Wakes the writer to look at its urgent queue (`Writer::urgent`).
    Wake,
}

/// One batch of a retention purge: at most `limit` of the oldest events before `cutoff` (Unix ms) whose row
/// id is at most `up_to`, for the purge recorded as event `purge`.
#[derive(Debug)]
pub(super) struct PurgeBatch {
    pub cutoff: i64,
    pub up_to: i64,
    pub limit: i64,
    pub purge: String,
}

/// A change made in the writer's transaction; it returns the events that record it (or an error, and then
/// nothing of it is stored).
pub(super) type ChangeFn = Box<dyn FnOnce(&rusqlite::Transaction) -> Result<Vec<ValidEvent>, StoreError> + Send>;

/// The handle the store sends inserts through.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
    /// Changes to the panel's tables (a sign-in's, a user's), taken before any insert still queued: a
    /// sign-in waits for the commit under way at most, not for the groups of events queued behind it.
    urgent: mpsc::UnboundedSender<Job>,
    /// When the last insert committed (Unix ms).
    last_insert: Arc<AtomicI64>,
    /// Background work waits until inserts have paused for this long (`Tuning::quiet`).
    quiet_ms: i64,
    /// The row id of the last event committed: webhook deliverers wait on it.
    committed: watch::Receiver<i64>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Insert(r) => f.debug_struct("Insert").field("rows", &r.rows.len()).finish(),
            Job::Index(limit, _) => f.debug_tuple("Index").field(limit).finish(),
            Job::Change(..) => f.write_str("Change"),
            Job::Checkpoint(_) => f.write_str("Checkpoint"),
            Job::Purge(batch, _) => f.debug_tuple("Purge").field(batch).finish(),
            Job::Truncate(_) => f.write_str("Truncate"),
            Job::Wake => f.write_str("Wake"),
        }
    }
}

impl Writer {
    pub(super) fn spawn(path: &Path, tuning: &Tuning, signer: Arc<Signer>) -> Result<Writer, StoreError> {
        let mut conn = open_connection(path, false, 65_536)?;
        let purging = Arc::new(AtomicBool::new(false));
        let asked = purging.clone();
        conn.create_scalar_function(PURGING_FN, 0, FunctionFlags::SQLITE_UTF8, move |_| {
            Ok(i64::from(asked.load(Ordering::Relaxed)))
        })?;
        let mut log = Log::open(&mut conn, signer)?;
        // Events committed after the last checkpoint (a stop before the next tick, an upgrade) are signed now.
        log.checkpoint(&mut conn)?;
        // Checkpoints run on a thread of their own, mostly; the writer's own are rare (see `checkpoints`).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 32000;")?;
        let committed = wal::spawn_checkpoints(path, tuning.checkpoint_every)?;
        let (tx, rx) = mpsc::channel(1_024);
        let ticks = tx.clone();
        let interval = tuning.log_checkpoint_interval;
        std::thread::Builder::new()
            .name("auditlog-log-checkpoint".into())
            .spawn(move || {
                // Ends when the writer does.
                while {
                    std::thread::sleep(interval);
                    ticks.blocking_send(Job::Checkpoint(None)).is_ok()
                } {}
            })?;
        let last_insert = Arc::new(AtomicI64::new(0));
        let (last_seq, committed_seq) = watch::channel(log.next_seq() - 1);
        let thread = Thread {
            last_seq,
            last_insert: last_insert.clone(),
            committed,
            max_group_events: tuning.max_group_events,
            known: KnownActors::new(tuning.known_actors),
            log,
            recorders: HashMap::default(),
            purging,
        };
        let (urgent, urgent_rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("auditlog-writer".into())
            .spawn(move || thread.run(conn, rx, urgent_rx))?;
        Ok(Writer {
            tx,
            urgent,
            last_insert,
            quiet_ms: tuning.quiet.as_millis() as i64,
            committed: committed_seq,
        })
    }

    /// Follows the row id of the last event committed.
    pub(super) fn committed(&self) -> watch::Receiver<i64> {
        self.committed.clone()
    }

    /// True while inserts are queued for the writer or came in the last moments: a burst is under way.
    pub(super) fn busy(&self) -> bool {
        self.tx.capacity() < self.tx.max_capacity()
            || now_millis() - self.last_insert.load(Ordering::Relaxed) < self.quiet_ms
    }

    /// Inserts the rows; returns how many were new, once they are committed.
    pub(super) async fn insert(&self, rows: Vec<Row>) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Insert(Request { rows, reply }), answer).await
    }

    /// Indexes up to `limit` events for free text; returns how many it indexed.
    pub(super) async fn index(&self, limit: i64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Index(limit, reply), answer).await
    }

    /// Runs `change` and stores the events it returns in one transaction; returns once it is committed.
    pub(super) async fn change(&self, change: ChangeFn) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.urgent
            .send(Job::Change(change, reply))
            .map_err(|_| StoreError::WriterGone)?;
        // When the queue is full the writer is busy, and looks at the urgent queue before its next group.
        let _ = self.tx.try_send(Job::Wake);
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Signs a checkpoint of everything committed so far (when anything was since the last); returns once it
    /// is stored.
    pub(super) async fn checkpoint_now(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Checkpoint(Some(reply)), answer).await
    }

    /// Runs one batch of a retention purge; returns what it deleted, once committed.
    pub(super) async fn purge(&self, batch: PurgeBatch) -> Result<Batch, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Purge(batch, reply), answer).await
    }

    /// Checkpoints the whole WAL into the database and truncates it; returns once done.
    pub(super) async fn truncate_wal(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Truncate(reply), answer).await
    }

    async fn ask<T>(&self, job: Job, answer: oneshot::Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
        self.tx.send(job).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// The writer thread's state.
struct Thread {
    /// When the last insert committed (Unix ms), for `Writer::busy`.
    last_insert: Arc<AtomicI64>,
    /// Tells the checkpoint thread that the WAL grew.
    committed: std::sync::mpsc::SyncSender<()>,
    /// The row id of the last event committed, for those who wait on new events.
    last_seq: watch::Sender<i64>,
    max_group_events: usize,
    known: KnownActors,
    log: Log,
    /// The row id in `recorders` of each `recorded_by` body seen.
    recorders: HashMap<String, i64>,
    /// What `PURGING_FN` answers: true only while a purge's DELETE runs.
    purging: Arc<AtomicBool>,
}

impl Thread {
    fn run(mut self, mut conn: Connection, mut rx: mpsc::Receiver<Job>, mut urgent: mpsc::UnboundedReceiver<Job>) {
        // A job taken from the queue while grouping inserts, to run next.
        let mut held: Option<Job> = None;
        while let Some(job) = urgent
            .try_recv()
            .ok()
            .or_else(|| held.take())
            .or_else(|| rx.blocking_recv())
        {
            match job {
                Job::Wake => {}
                Job::Insert(first) => {
                    let (group, next) = self.group(first, &mut rx);
                    held = next;
                    self.insert(&mut conn, group);
                }
                Job::Index(limit, reply) => {
                    let _ = reply.send(index_batch(&mut conn, limit).map_err(StoreError::from));
                    self.wake();
                }
                Job::Change(change, reply) => {
                    let result = self.apply_change(&mut conn, change);
                    self.stamp();
                    let _ = reply.send(result);
                }
                Job::Purge(batch, reply) => {
                    let purging = self.purging.clone();
                    let result = self.in_transaction(&mut conn, |_, tx| {
                        let deleting = |on: bool| purging.store(on, Ordering::Relaxed);
                        Ok(purge_batch(
                            tx,
                            (batch.cutoff, batch.up_to),
                            batch.limit,
                            &batch.purge,
                            deleting,
                        )?)
                    });
                    // Actors may have left `actors`: relearn which are there.
                    self.known.forget();
                    self.stamp();
                    let _ = reply.send(result);
                }
                Job::Checkpoint(reply) => {
                    let result = self.log.checkpoint(&mut conn);
                    match reply {
                        Some(reply) => {
                            let _ = reply.send(result);
                        }
                        None => {
                            if let Err(e) = result {
                                tracing::error!(error = %e, "signing a checkpoint failed; the next tick retries");
                            }
                        }
                    }
                }
                Job::Truncate(reply) => {
                    let result = self.log.checkpoint(&mut conn).and_then(|()| {
                        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                            .map_err(StoreError::from)
                    });
                    let _ = reply.send(result);
                }
            }
        }
    }

    /// The requests waiting behind `first`, up to `max_group_events` events, and the job after them when it is
    /// not an insert.
    fn group(&self, first: Request, rx: &mut mpsc::Receiver<Job>) -> (Vec<Request>, Option<Job>) {
        let mut size = first.rows.len();
        let mut group = vec![first];
        while size < self.max_group_events {
            match rx.try_recv() {
                Ok(Job::Insert(next)) => {
                    size += next.rows.len();
                    group.push(next);
                }
                // The urgent queue is looked at before the next group anyway: a wake-up does not end this one.
                Ok(Job::Wake) => {}
                Ok(other) => return (group, Some(other)),
                Err(_) => break,
            }
        }
        (group, None)
    }

    /// Commits the group in one transaction and answers each request.
    fn insert(&mut self, conn: &mut Connection, group: Vec<Request>) {
        let result = self.commit(conn, &group);
        self.stamp();
        match result {
            Ok(counts) => {
                for (request, n) in group.into_iter().zip(counts) {
                    let _ = request.reply.send(Ok(n));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = group.len(), "insert failed; nothing of it was stored");
                let e = Arc::new(e);
                for request in group {
                    let _ = request.reply.send(Err(StoreError::Commit(e.clone())));
                }
            }
        }
    }

    /// Marks the time of a commit (inserts pause background work) and wakes the checkpoint thread.
    fn stamp(&self) {
        self.last_insert.store(now_millis(), Ordering::Relaxed);
        let last = self.log.next_seq() - 1;
        self.last_seq
            .send_if_modified(|seq| std::mem::replace(seq, last) != last);
        self.wake();
    }

    fn wake(&self) {
        let _ = self.committed.try_send(());
    }
}

impl Thread {
    /// Inserts a group in one transaction. Returns how many rows each request added.
    fn commit(&mut self, conn: &mut Connection, group: &[Request]) -> Result<Vec<u64>, StoreError> {
        let started = std::time::Instant::now();
        let batches: Vec<&[Row]> = group.iter().map(|r| r.rows.as_slice()).collect();
        let (counts, learnt) = self.in_transaction(conn, |this, tx| Ok(this.insert_all(tx, &batches)?))?;
        self.known.learn(learnt);
        metrics::histogram!("writer_commit_seconds").record(started.elapsed().as_secs_f64());
        Ok(counts)
    }

    /// Runs a change and inserts the events that record it, in one transaction: both are stored, or neither.
    fn apply_change(&mut self, conn: &mut Connection, change: ChangeFn) -> Result<(), StoreError> {
        let (_, learnt) = self.in_transaction(conn, |this, tx| {
            let rows = prepare(change(tx)?, now_millis());
            Ok::<_, StoreError>(this.insert_all(tx, &[&rows])?)
        })?;
        self.known.learn(learnt);
        Ok(())
    }

    /// Runs `work` in an immediate transaction and commits it; when either fails, what the writer keeps in
    /// memory about the log and the recorders is put back as it was.
    fn in_transaction<T>(
        &mut self,
        conn: &mut Connection,
        work: impl FnOnce(&mut Self, &rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mark = self.log.mark();
        let result = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)
            .and_then(|tx| {
                self.log.sync(&tx)?;
                let value = work(self, &tx)?;
                tx.commit()?;
                Ok(value)
            });
        if result.is_err() {
            self.log.reset(mark);
            self.recorders.clear();
        }
        result
    }

    /// Inserts batches of events in the caller's transaction, each with its leaf in the log, and what the
    /// writer keeps beside them (`Derived`). Returns how many rows each batch added, and the actors that are
    /// new to the `actors` table (to remember once the transaction has committed).
    fn insert_all(
        &mut self,
        tx: &rusqlite::Transaction,
        group: &[&[Row]],
    ) -> rusqlite::Result<(Vec<u64>, Vec<super::derived::ActorParts>)> {
        let mut counts = Vec::with_capacity(group.len());
        let mut derived = Derived::default();
        let mut leaves = Vec::new();
        let mut seq = self.log.next_seq();
        {
            let mut insert = tx.prepare_cached(super::schema::insert_event())?;
            let mut last: Option<(&RecordedBy, i64)> = None;
            for rows in group {
                let mut accepted = 0;
                for row in *rows {
                    let by = &row.event.recorded_by;
                    let recorder = match last {
                        Some((seen, id)) if seen == by => id,
                        _ => self.recorder(tx, by)?,
                    };
                    last = Some((by, recorder));
                    if insert_one(&mut insert, seq, row, recorder)? {
                        leaves.push(row.leaf);
                        derived.add(Counted::new_event(&row.event, row.ts, seq));
                        seq += 1;
                        accepted += 1;
                    }
                }
                counts.push(accepted);
            }
        }
        self.log.append_all(tx, &leaves)?;
        let learnt = derived.write(tx, &self.known)?;
        Ok((counts, learnt))
    }

    /// The row id of `by` in `recorders`, added there the first time.
    fn recorder(&mut self, tx: &rusqlite::Transaction, by: &RecordedBy) -> rusqlite::Result<i64> {
        let body = serde_json::to_string(by).unwrap_or_default();
        if let Some(&id) = self.recorders.get(&body) {
            return Ok(id);
        }
        tx.prepare_cached("INSERT INTO recorders (body) VALUES (?1) ON CONFLICT (body) DO NOTHING")?
            .execute([&body])?;
        let id = tx
            .prepare_cached("SELECT id FROM recorders WHERE body = ?1")?
            .query_row([&body], |r| r.get(0))?;
        self.recorders.insert(body, id);
        Ok(id)
    }
}

/// Inserts one event as row `seq`; false when its id was already stored.
fn insert_one(
    insert: &mut rusqlite::CachedStatement<'_>,
    seq: i64,
    row: &Row,
    recorder: i64,
) -> rusqlite::Result<bool> {
    let e = &row.event;
    let t = e.target.as_ref();
    let added = insert.execute(rusqlite::params![
        seq,
        row.id,
        row.ts,
        row.received_at,
        e.action.as_str(),
        e.action.category(),
        e.outcome.as_str(),
        e.actor.kind.as_str(),
        e.actor.id.as_deref(),
        e.actor.name.as_deref(),
        e.actor.email.as_deref(),
        t.map(|t| t.kind.as_str()),
        t.and_then(|t| t.id.as_deref()),
        t.and_then(|t| t.name.as_deref()),
        e.source.as_str(),
        e.ip.as_deref(),
        e.user_agent.as_deref(),
        e.details_json.as_str(),
        e.summary.as_str(),
        e.tenant.as_deref(),
        recorder,
    ])?;
    Ok(added > 0)
}
