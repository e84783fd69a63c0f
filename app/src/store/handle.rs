//! `AuditStore`: the handle to the audit database, how it is opened, and what every part of the store shares
//! through it (the pools, the event writer, what is remembered, the tuning). The other files add methods to
//! it, each for its own subject; this one imports none of them but the layers below.

use std::{collections::HashMap, path::PathBuf, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    caches::{BlockCounts, CountCache, CubeCache, IndexFacts, Kept, MatchSets},
    days::HistogramCache,
    error::StoreError,
    filter::TextPlan,
    tuning::Tuning,
    writer::Writer,
};
use crate::{
    model::{ActionCatalog, ActorType, NewEvent, RecordedBy, ValidEvent, VerifyStatus},
    trust::Signer,
};

/// Where the log's signing key is and the origin its checkpoints name (docs/trust.md).
#[derive(Clone, Debug, Default)]
pub struct LogConfig {
    /// The key file (`AUDITLOG_SIGNING_KEY_FILE`); default `<database>.signing-key` beside the database, made
    /// on first start.
    pub key_file: Option<PathBuf>,
    /// The origin (`AUDITLOG_LOG_ORIGIN`); default the key's, `auditlog/<instance id>` for a new key.
    pub origin: Option<String>,
}

/// `<file>.<suffix>`, beside `file`.
fn beside(file: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Handle to the audit database. Cheap to clone; share one per process.
///
/// Two pools over one WAL database: the panel's writes (one connection; queueing in the pool instead of in
/// SQLite means concurrent writers never see `database is locked`) and a few readers; events are written by
/// the event writer's own connection and thread.
#[derive(Clone, Debug)]
pub struct AuditStore {
    /// Reads of the audit log (pages, totals, searches).
    pub(super) read: SqlitePool,
    /// The panel's own reads (sessions, users, settings, API tokens): every request's sign-in check goes
    /// through here, so slow searches holding every `read` connection cannot freeze the panel.
    pub(super) panel_read: SqlitePool,
    pub(super) write: SqlitePool,
    pub(super) writer: Writer,
    pub(super) counts: Arc<CountCache>,
    pub(super) histograms: Arc<HistogramCache>,
    pub(super) block_counts: Arc<BlockCounts>,
    pub(super) match_sets: Arc<MatchSets>,
    /// The menus' live counts: whole days' combinations, by days and actor keys.
    pub(super) cubes: Arc<CubeCache>,
    pub(super) facts: Arc<IndexFacts>,
    /// The database file, for the connections that bypass the pools (export).
    pub(super) path: Arc<PathBuf>,
    /// Signs the log's checkpoints; its verifier key is public.
    pub(super) signer: Arc<Signer>,
    /// Held shared by reads that remember counts (`list`, `count`, `explain`), exclusively by each batch of a
    /// retention purge, which then forgets every count: none outlives the rows it counted.
    pub(super) purge_gate: Arc<tokio::sync::RwLock<()>>,
    /// Wakes the retention loop when the retention changes.
    pub(super) retention_changed: Arc<tokio::sync::Notify>,
    /// The tab's `Verify log`: how the running (or last) verification stands. One runs at a time.
    pub(super) verification: Arc<std::sync::Mutex<VerifyStatus>>,
    pub(super) tuning: Tuning,
    /// The labels of actions and categories the facets carry: built in, extended by the host's.
    pub(super) catalog: Arc<ActionCatalog>,
    /// Exports running at once (`Tuning::exports_at_once`); more wait their turn.
    pub(super) exports: Arc<tokio::sync::Semaphore>,
    /// Searches read with LIKE running at once (`Tuning::scans_at_once`); more wait their turn.
    pub(super) scans: Arc<tokio::sync::Semaphore>,
    /// Exports running or waiting, by caller (`Tuning::exports_per_caller`).
    pub(super) exporters: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    /// Counts the changes of the webhook endpoints: their deliverers restart from what is stored.
    pub(super) webhooks_changed: Arc<tokio::sync::watch::Sender<u64>>,
    /// The row id of the last event in the archive files (`i64::MAX` without them): the retention purge
    /// deletes none after it.
    pub(super) archived: Arc<std::sync::atomic::AtomicI64>,
    /// Passwords checked against their hash (each an Argon2 run), for `password_checks`.
    pub(super) password_checks: Arc<std::sync::atomic::AtomicU64>,
}

impl AuditStore {
    /// Opens (creating the file and its folder when missing) and migrates the database at `url`,
    /// e.g. `sqlite://data/auditlog.db`, with the default tuning.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_tuned(url, Tuning::default()).await
    }

    /// `open`, with `tuning` instead of the default (tests reach a path with a few rows this way).
    pub async fn open_tuned(url: &str, tuning: Tuning) -> Result<Self, StoreError> {
        Self::open_with(url, tuning, &LogConfig::default()).await
    }

    /// `open_tuned`, with the log's signing key and origin as configured.
    pub async fn open_with(url: &str, tuning: Tuning, log: &LogConfig) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL keeps every committed transaction through a process crash (SIGKILL);
            // only a power loss may roll back the last ones.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // 8 KiB pages for a new file (an existing file keeps its size): shallower b-trees and fewer page
            // splits for the writer; import of 1M lines went from 83–116k to 98–113k lines/s.
            .page_size(8192);
        let path = options.get_filename().to_path_buf();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        // Page cache: 64 MiB for the event writer (index maintenance), 16 MiB for the other writes, 8 MiB
        // for each reader, so that long reads (export) keep the server's memory flat.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone().pragma("cache_size", "-16384"))
            .await?;
        sqlx::migrate!("../migrations").run(&write).await?;
        // A SQLite connection lives in this process and cannot drop away: the ping that the pool sends before
        // handing one out (a round trip through the connection's worker thread, beside the query's own) only
        // adds to every read.
        let read_only = options.read_only(true);
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(read_only.clone().pragma("cache_size", "-8192"))
            .await?;
        let panel_read = SqlitePoolOptions::new()
            .max_connections(2)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(read_only.pragma("cache_size", "-2048"))
            .await?;
        let key_file = log.key_file.clone().unwrap_or_else(|| beside(&path, "signing-key"));
        let signer = Signer::load_or_create(&key_file, log.origin.as_deref()).map_err(StoreError::Log)?;
        let signer = Arc::new(signer);
        let writer = Writer::spawn(&path, &tuning, signer.clone())?;
        Ok(AuditStore {
            read,
            panel_read,
            write,
            writer,
            counts: Arc::new(Kept::new(tuning.kept_counts)),
            histograms: Arc::new(HistogramCache::new(tuning.kept_histograms)),
            block_counts: Arc::new(Kept::new(tuning.kept_block_counts)),
            match_sets: Arc::new(Kept::new(tuning.kept_match_sets)),
            cubes: Arc::new(Kept::new(tuning.kept_histograms)),
            facts: Arc::new(Kept::new(tuning.kept_counts)),
            path: Arc::new(path),
            signer,
            verification: Arc::default(),
            purge_gate: Arc::default(),
            retention_changed: Arc::default(),
            exports: Arc::new(tokio::sync::Semaphore::new(tuning.exports_at_once.max(1))),
            scans: Arc::new(tokio::sync::Semaphore::new(tuning.scans_at_once.max(1))),
            exporters: Arc::default(),
            webhooks_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
            archived: Arc::new(std::sync::atomic::AtomicI64::new(i64::MAX)),
            password_checks: Arc::default(),
            catalog: Arc::new(ActionCatalog::built_in()),
            tuning,
        })
    }

    /// The same database with another tuning for its reads (what the writer was spawned with stays). What
    /// is remembered is shared with the original.
    pub fn with_tuning(mut self, tuning: Tuning) -> Self {
        if tuning.exports_at_once != self.tuning.exports_at_once {
            self.exports = Arc::new(tokio::sync::Semaphore::new(tuning.exports_at_once.max(1)));
        }
        if tuning.scans_at_once != self.tuning.scans_at_once {
            self.scans = Arc::new(tokio::sync::Semaphore::new(tuning.scans_at_once.max(1)));
        }
        self.tuning = tuning;
        self
    }

    /// The same database, its facets labelled by `host`'s catalog besides the built-in labels.
    pub fn with_catalog(mut self, host: ActionCatalog) -> Self {
        self.catalog = Arc::new(ActionCatalog::built_in().extended(host));
        self
    }

    /// The tuning this handle reads with.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// A turn to read with LIKE over the table, when `text` is such a search (see `Tuning::scans_at_once`):
    /// held while its page and total are read.
    pub(super) async fn scan_turn(&self, text: &TextPlan) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match text.unindexed() {
            true => self.scans.acquire().await.ok(),
            false => None,
        }
    }

    /// Forgets every count, histogram and search answer remembered: after a purge none is right any more.
    pub(super) fn forget_counts(&self) {
        self.counts.clear();
        self.histograms.clear();
        self.block_counts.clear();
        self.match_sets.clear();
        self.cubes.clear();
        self.facts.clear();
    }

    /// Runs `change` on the event writer's connection and stores the event it returns (if any) in the same
    /// transaction: a panel change and the event that records it are committed together, or not at all. The
    /// event is recorded by the session of the user it names as actor, or by the product itself.
    pub(super) async fn change<T: Send + 'static>(
        &self,
        change: impl FnOnce(&rusqlite::Transaction) -> Result<(T, Option<NewEvent>), StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.change_by(None, change).await
    }

    /// `change`, its event recorded by `by`.
    pub(super) async fn change_as<T: Send + 'static>(
        &self,
        by: RecordedBy,
        change: impl FnOnce(&rusqlite::Transaction) -> Result<(T, Option<NewEvent>), StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.change_by(Some(by), change).await
    }

    async fn change_by<T: Send + 'static>(
        &self,
        by: Option<RecordedBy>,
        change: impl FnOnce(&rusqlite::Transaction) -> Result<(T, Option<NewEvent>), StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let slot = Arc::new(std::sync::Mutex::new(None));
        let out = slot.clone();
        self.writer
            .change(Box::new(move |tx| {
                let (value, event) = change(tx)?;
                let mut events: Vec<ValidEvent> = event.map(|e| e.validate()).transpose()?.into_iter().collect();
                for e in &mut events {
                    e.recorded_by = by.clone().unwrap_or_else(|| recorder_of_change(e));
                }
                if let Ok(mut out) = out.lock() {
                    *out = Some(value);
                }
                Ok(events)
            }))
            .await?;
        let value = slot.lock().ok().and_then(|mut v| v.take());
        value.ok_or(StoreError::WriterGone)
    }

    /// True when the database answers a query.
    pub async fn healthy(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.read)
            .await
            .is_ok()
    }

    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.read)
            .await?)
    }

    /// Closes the pools, then copies the whole WAL into the database file and empties it, so that a clean
    /// stop (or the end of an import) leaves no WAL beside the database. A reader still open elsewhere (an
    /// export on its own connection) only keeps the WAL from being emptied.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.panel_read.close().await;
        if let Err(e) = self.writer.truncate_wal().await {
            tracing::warn!(error = %e, "the WAL could not be emptied at close");
        }
    }

    /// The sizes of the database file and of its WAL, in bytes (0 for a file that is not there).
    pub fn file_sizes(&self) -> (u64, u64) {
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        (size(&self.path), size(std::path::Path::new(&wal)))
    }

    /// How many events the free-text and target-id indexes do not hold yet (searches read those rows
    /// directly, slower than through the index).
    pub async fn index_backlog(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE seq > \
             (SELECT MIN(text_through, indexed_through) FROM fts_progress WHERE id = 1)",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(n as u64)
    }
}

/// Who records the event of a change to the panel: the session of the signed-in user who made it, or the
/// product itself (its command line).
fn recorder_of_change(e: &ValidEvent) -> RecordedBy {
    match (&e.actor.kind, &e.actor.id) {
        (ActorType::User, Some(id)) => RecordedBy::session(id, e.actor.email.as_deref().unwrap_or(id)),
        _ => RecordedBy::system(),
    }
}
