//! Group commit. Every event insert goes through one writer thread with its own SQLite connection: it takes
//! whatever requests are waiting, inserts them all in one transaction, commits, and only then answers each
//! request. Under concurrent load many requests share one commit; alone, a request commits by itself. Either
//! way an event is acknowledged only once it is committed.
//!
//! The writer talks to SQLite directly (rusqlite, the same bundled library sqlx uses) with one prepared
//! statement reused for every row: going through sqlx's connection worker would cost more per row than the
//! insert itself.

use std::{
    collections::HashSet,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
// The per-transaction counts are keyed by our own values: a fast hash, no need for SipHash's DoS resistance.
use rustc_hash::{FxHashMap as HashMap, FxHashSet};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, events::with_ids, fulltext::index_batch};
use crate::model::{ValidEvent, time};

pub(super) const DAY_MS: i64 = 86_400_000;

/// At most this many events share one transaction.
const MAX_GROUP_EVENTS: usize = 20_000;

/// Row ids are grouped in blocks of `1 << SEQ_BLOCK_SHIFT` for `seq_blocks` (migration 14, which uses 12 too).
pub(super) const SEQ_BLOCK_SHIFT: u32 = 12;

const INSERT_ONE: &str = "INSERT INTO events (id, ts, received_at, action, category, outcome, actor_type, \
    actor_id, actor_name, actor_email, target_type, target_id, target_name, source, ip, user_agent, details, summary) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
    ON CONFLICT (id) DO NOTHING";

struct Request {
    rows: Vec<(String, ValidEvent)>,
    received: i64,
    reply: oneshot::Sender<Result<u64, String>>,
}

/// What the writer thread is asked to do.
enum Job {
    Insert(Request),
    /// Index up to this many events for free text.
    Index(i64, oneshot::Sender<Result<u64, String>>),
    /// A change to the panel's tables and the events that record it, in one transaction.
    Change(ChangeFn, oneshot::Sender<Result<(), StoreError>>),
}

/// A change made in the writer's transaction; it returns the events that record it (or an error, and then
/// nothing of it is stored).
pub(super) type ChangeFn = Box<dyn FnOnce(&rusqlite::Transaction) -> Result<Vec<ValidEvent>, StoreError> + Send>;

/// The handle the store sends inserts through.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
    /// When the last insert committed (Unix ms).
    last_insert: Arc<AtomicI64>,
}

/// Background work waits until inserts have paused for this long.
const QUIET_MS: i64 = 200;

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Insert(r) => f.debug_struct("Insert").field("rows", &r.rows.len()).finish(),
            Job::Index(limit, _) => f.debug_tuple("Index").field(limit).finish(),
            Job::Change(..) => f.write_str("Change"),
        }
    }
}

/// A connection to the (already created and migrated) database file, set up like sqlx's: the writer's, or a
/// read-only one (export).
pub(super) fn open_connection(path: &Path, read_only: bool, cache_kib: i64) -> rusqlite::Result<Connection> {
    let access = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn = Connection::open_with_flags(
        path,
        access | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // WAL is a property of the file (set when sqlx created it); NORMAL keeps every commit through a
    // process crash, as for the pools.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -{cache_kib};"
    ))?;
    Ok(conn)
}

impl Writer {
    pub(super) fn spawn(path: &Path) -> Result<Writer, StoreError> {
        let conn = open_connection(path, false, 65_536).map_err(database)?;
        // Checkpoints run on a thread of their own, mostly; the writer's own are rare (see `checkpoints`).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 32000;")
            .map_err(database)?;
        let checkpointer = open_connection(path, false, 2_048).map_err(database)?;
        let (committed, commits) = std::sync::mpsc::sync_channel(1);
        let thread_error = |e| StoreError::Database(sqlx::Error::Io(e));
        std::thread::Builder::new()
            .name("auditlog-checkpoint".into())
            .spawn(move || checkpoints(&checkpointer, &commits))
            .map_err(thread_error)?;
        let (tx, rx) = mpsc::channel(1_024);
        let last_insert = Arc::new(AtomicI64::new(0));
        let stamp = last_insert.clone();
        std::thread::Builder::new()
            .name("auditlog-writer".into())
            .spawn(move || run(conn, rx, &stamp, &committed))
            .map_err(thread_error)?;
        Ok(Writer { tx, last_insert })
    }

    /// True while inserts are queued for the writer or came in the last moments: a burst is under way.
    pub(super) fn busy(&self) -> bool {
        self.tx.capacity() < self.tx.max_capacity()
            || super::now_millis() - self.last_insert.load(Ordering::Relaxed) < QUIET_MS
    }

    /// Inserts the rows; returns how many were new, once they are committed.
    pub(super) async fn insert(&self, rows: Vec<(String, ValidEvent)>, received: i64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Insert(Request { rows, received, reply }), answer).await
    }

    /// Indexes up to `limit` events for free text; returns how many it indexed.
    pub(super) async fn index(&self, limit: i64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ask(Job::Index(limit, reply), answer).await
    }

    /// Runs `change` and stores the events it returns in one transaction; returns once it is committed.
    pub(super) async fn change(&self, change: ChangeFn) -> Result<(), StoreError> {
        let gone = || StoreError::Database(sqlx::Error::PoolClosed);
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job::Change(change, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    async fn ask(&self, job: Job, answer: oneshot::Receiver<Result<u64, String>>) -> Result<u64, StoreError> {
        let gone = || StoreError::Database(sqlx::Error::PoolClosed);
        self.tx.send(job).await.map_err(|_| gone())?;
        match answer.await.map_err(|_| gone())? {
            Ok(n) => Ok(n),
            Err(message) => Err(StoreError::Database(sqlx::Error::Protocol(message))),
        }
    }
}

pub(super) fn database(e: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(e.to_string()))
}

/// A day and the filter columns of `day_cube`: action, outcome, actor type, target type, source.
type CubeKey<'a> = (i64, &'a str, &'a str, &'a str, &'a str, &'a str);

/// An actor's (id, name, email), '' for a missing part, as the `actors` table keys it.
type ActorParts = (String, String, String);

/// The writer remembers at most this many actors it knows are in `actors` (then forgets them all and
/// relearns: re-adding one is a no-op).
const KNOWN_ACTORS_MAX: usize = 100_000;

/// At most one checkpoint this often: between them, the WAL gathers the pages of many commits, and a page
/// written by several commits is copied into the database once.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

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
fn checkpoints(conn: &Connection, commits: &std::sync::mpsc::Receiver<()>) {
    while commits.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next commit retries it");
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    last_insert: &AtomicI64,
    committed: &std::sync::mpsc::SyncSender<()>,
) {
    // Tells the checkpoint thread that the WAL grew (if it has not been told yet).
    let wake = || {
        let _ = committed.try_send(());
    };
    // A job taken from the queue while grouping inserts, to run next.
    let mut held: Option<Job> = None;
    let mut known_actors: HashSet<ActorParts> = HashSet::new();
    while let Some(job) = held.take().or_else(|| rx.blocking_recv()) {
        let first = match job {
            Job::Insert(request) => request,
            Job::Index(limit, reply) => {
                let _ = reply.send(index_batch(&mut conn, limit).map_err(|e| e.to_string()));
                wake();
                continue;
            }
            Job::Change(change, reply) => {
                let result = apply_change(&mut conn, change, &known_actors).map(|new_actors| {
                    known_actors.extend(new_actors);
                });
                last_insert.store(super::now_millis(), Ordering::Relaxed);
                wake();
                let _ = reply.send(result);
                continue;
            }
        };
        let mut size = first.rows.len();
        let mut group = vec![first];
        while size < MAX_GROUP_EVENTS {
            match rx.try_recv() {
                Ok(Job::Insert(next)) => {
                    size += next.rows.len();
                    group.push(next);
                }
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let result = commit(&mut conn, &group, &known_actors);
        last_insert.store(super::now_millis(), Ordering::Relaxed);
        wake();
        match result {
            Ok((counts, new_actors)) => {
                if known_actors.len() + new_actors.len() > KNOWN_ACTORS_MAX {
                    known_actors.clear();
                }
                known_actors.extend(new_actors);
                for (request, n) in group.into_iter().zip(counts) {
                    let _ = request.reply.send(Ok(n));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = group.len(), "insert failed; nothing of it was stored");
                for request in group {
                    let _ = request.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Inserts a group in one transaction. Returns how many rows each request added, and the actors it added to
/// `actors` (not yet in `known_actors`).
fn commit(
    conn: &mut Connection,
    group: &[Request],
    known_actors: &HashSet<ActorParts>,
) -> rusqlite::Result<(Vec<u64>, HashSet<ActorParts>)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let batches: Vec<(&[(String, ValidEvent)], i64)> = group.iter().map(|r| (r.rows.as_slice(), r.received)).collect();
    let added = insert_all(&tx, &batches, known_actors)?;
    tx.commit()?;
    Ok(added)
}

/// Runs a change and inserts the events that record it, in one transaction: both are stored, or neither.
fn apply_change(
    conn: &mut Connection,
    change: ChangeFn,
    known_actors: &HashSet<ActorParts>,
) -> Result<HashSet<ActorParts>, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(database)?;
    let events = change(&tx)?;
    let received = super::now_millis();
    let rows = with_ids(events);
    let (_, new_actors) = insert_all(&tx, &[(&rows, received)], known_actors).map_err(database)?;
    tx.commit().map_err(database)?;
    Ok(new_actors)
}

/// Inserts batches of events (each with the time it was received) in the caller's transaction, with the
/// counts the writer keeps. Returns how many rows each batch added, and the actors added to `actors`.
fn insert_all<'a>(
    tx: &rusqlite::Transaction,
    group: &[(&'a [(String, ValidEvent)], i64)],
    known_actors: &HashSet<ActorParts>,
) -> rusqlite::Result<(Vec<u64>, HashSet<ActorParts>)> {
    let mut counts = Vec::with_capacity(group.len());
    let mut new_actors: HashSet<ActorParts> = HashSet::new();
    // The actors of this transaction, borrowed (a few distinct ones among many events).
    let mut actors: FxHashSet<(&str, &str, &str)> = FxHashSet::default();
    // Per-day counts of what this transaction adds, by filter column and value (see migration 7).
    let mut days: HashMap<(&str, &str, i64), i64> = HashMap::default();
    // And by combination of those columns (see migration 9).
    let mut cube: HashMap<CubeKey, i64> = HashMap::default();
    // And by actor key and combination (see migration 11).
    let mut actor_cube: HashMap<(&str, CubeKey), i64> = HashMap::default();
    // The range of times in each block of row ids (see migration 14).
    let mut blocks: HashMap<i64, (i64, i64)> = HashMap::default();
    {
        let mut insert = tx.prepare_cached(INSERT_ONE)?;
        for &(rows, received) in group {
            let mut accepted = 0;
            for (id, e) in rows {
                let t = e.target.as_ref();
                let ts = e.timestamp.map(time::to_millis).unwrap_or(received);
                let added = insert.execute(params![
                    id,
                    ts,
                    e.received_at.map(time::to_millis).unwrap_or(received),
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
                ])? as u64;
                if added > 0 {
                    let block = tx.last_insert_rowid() >> SEQ_BLOCK_SHIFT;
                    let range = blocks.entry(block).or_insert((ts, ts));
                    *range = (range.0.min(ts), range.1.max(ts));
                    let a = &e.actor;
                    let part = |p: &'a Option<String>| p.as_deref().unwrap_or("");
                    actors.insert((part(&a.id), part(&a.name), part(&a.email)));
                    let who = a
                        .email
                        .as_deref()
                        .or(a.id.as_deref())
                        .or(a.name.as_deref())
                        .unwrap_or("");
                    let day = ts.div_euclid(DAY_MS);
                    for (col, value) in [
                        ("*", ""),
                        ("action", e.action.as_str()),
                        ("category", e.action.category()),
                        ("outcome", e.outcome.as_str()),
                        ("actor_type", e.actor.kind.as_str()),
                        ("source", e.source.as_str()),
                        ("actor", who),
                    ]
                    .into_iter()
                    .chain(t.map(|t| ("target_type", t.kind.as_str())))
                    {
                        *days.entry((col, value, day)).or_insert(0) += 1;
                    }
                    let cube_key = (
                        day,
                        e.action.as_str(),
                        e.outcome.as_str(),
                        e.actor.kind.as_str(),
                        t.map_or("", |t| t.kind.as_str()),
                        e.source.as_str(),
                    );
                    *cube.entry(cube_key).or_insert(0) += 1;
                    *actor_cube.entry((who, cube_key)).or_insert(0) += 1;
                }
                accepted += added;
            }
            counts.push(accepted);
        }
        for (id, name, email) in actors {
            let key = (id.to_string(), name.to_string(), email.to_string());
            if !known_actors.contains(&key) {
                new_actors.insert(key);
            }
        }
        let mut block_times = tx.prepare_cached(
            "INSERT INTO seq_blocks (block, min_ts, max_ts) VALUES (?1, ?2, ?3) ON CONFLICT (block) \
             DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), max_ts = MAX(max_ts, excluded.max_ts)",
        )?;
        for (block, (min, max)) in blocks {
            block_times.execute(params![block, min, max])?;
        }
        let mut count_day = tx.prepare_cached(
            "INSERT INTO day_counts (col, value, day, n) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (col, value, day) DO UPDATE SET n = n + excluded.n",
        )?;
        let mut totals: HashMap<(&str, &str), i64> = HashMap::default();
        for ((col, value, day), n) in days {
            count_day.execute(params![col, value, day, n])?;
            *totals.entry((col, value)).or_insert(0) += n;
        }
        let mut count_value = tx.prepare_cached(
            "INSERT INTO value_counts (col, value, n) VALUES (?1, ?2, ?3) \
             ON CONFLICT (col, value) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((col, value), n) in totals {
            count_value.execute(params![col, value, n])?;
        }
        // The cube rows, then the actor cube's: the same columns after `who`.
        let cube_sql = |table: &str, who: &str, param: &str| {
            format!(
                "INSERT INTO {table} ({who}day, action, category, outcome, actor_type, target_type, source, n) \
                 VALUES ({param}?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT ({who}day, action, outcome, actor_type, target_type, source) DO UPDATE SET n = n + excluded.n"
            )
        };
        let mut count_combination = tx.prepare_cached(&cube_sql("day_cube", "", ""))?;
        let mut count_actor_combination = tx.prepare_cached(&cube_sql("actor_day_cube", "who, ", "?, "))?;
        let combinations = cube.into_iter().map(|(key, n)| (None, key, n));
        let actor_combinations = actor_cube.into_iter().map(|((who, key), n)| (Some(who), key, n));
        for (who, (day, action, outcome, actor_type, target_type, source), n) in combinations.chain(actor_combinations)
        {
            let category = crate::model::event::category_of(action);
            let columns: [&dyn rusqlite::ToSql; 8] = [
                &day,
                &action,
                &category,
                &outcome,
                &actor_type,
                &target_type,
                &source,
                &n,
            ];
            match who {
                None => count_combination.execute(&columns[..])?,
                Some(who) => {
                    let with_who: Vec<&dyn rusqlite::ToSql> =
                        std::iter::once(&who as &dyn rusqlite::ToSql).chain(columns).collect();
                    count_actor_combination.execute(&with_who[..])?
                }
            };
        }
        let mut add_actor = tx.prepare_cached(
            "INSERT INTO actors (actor_id, actor_name, actor_email, who) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )?;
        for (id, name, email) in &new_actors {
            let who = [email, id, name]
                .into_iter()
                .find(|p| !p.is_empty())
                .map_or("", |p| p.as_str());
            add_actor.execute(params![id, name, email, who])?;
        }
    }
    let added: u64 = counts.iter().sum();
    tx.execute("UPDATE event_count SET n = n + ?1 WHERE id = 1", [added as i64])?;
    Ok((counts, new_actors))
}
