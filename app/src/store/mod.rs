//! The SQLite store: the one place for every SQL statement. Server-side only.
//!
//! Two pools over one WAL database: a single writer connection (SQLite has one writer at a time; queueing in
//! the pool instead of in SQLite means concurrent writers never see `database is locked`) and a few readers.

mod count_cache;
mod days;
mod events;
mod export;
mod fulltext;
mod sql;
mod tokens;
mod users;
mod writer;

use std::{str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::model::FieldError;

pub use events::InsertOutcome;
pub use export::{ExportPlan, ExportRecord};
pub use tokens::{ApiToken, NewToken, Scope, Scopes};
pub use users::{BruteForcePolicy, SESSION_TTL_MS};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Handle to the audit database. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct AuditStore {
    read: SqlitePool,
    write: SqlitePool,
    writer: writer::Writer,
    counts: std::sync::Arc<count_cache::CountCache>,
    histograms: std::sync::Arc<days::HistogramCache>,
    block_counts: std::sync::Arc<count_cache::BlockCounts>,
    match_sets: std::sync::Arc<count_cache::MatchSets>,
    /// The database file, for the connections that bypass the pools (export).
    path: std::sync::Arc<std::path::PathBuf>,
    /// Deep pages that skip more rows than this start from the day their first row is in (see `days`).
    /// `None`: never (every page skips its offset through the index; what tests compare with).
    anchor_min_offset: Option<u64>,
    /// Past this many matching rows, a walk sorted by action (a cursor page, an export) reads the action index
    /// instead of sorting the matching rows (`events_in_order`).
    sort_by_index_rows: u64,
    /// Exports running at once, each on its own connection and blocking thread; more wait their turn.
    exports: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Exports that may run at once (as many as the read pool has connections).
const EXPORTS_AT_ONCE: usize = 4;

/// See `AuditStore::anchor_min_offset`: below this, skipping rows through the index is as quick. Skipping costs
/// about 0.1 µs a row through an index that holds the filter, about 1.5 µs where the rows must be read; a page
/// placed by the per-day counts costs a transaction (about 0.2 ms) and takes its total from them. At 1M events,
/// page 100 of `source=newsletter` took 1.4 ms skipping and page 102 0.8 ms placed.
const ANCHOR_MIN_OFFSET: u64 = 1_000;

/// A deep page of free text is read block by block (`fill_by_blocks`) only past this many rows (and past
/// `anchor_min_offset`): before it, walking the rows in time order and testing the text fills it sooner.
pub(super) const DEEP_TEXT_MIN_OFFSET: u64 = 5_000;

impl AuditStore {
    /// Opens (creating the file and its folder when missing) and migrates the database at `url`,
    /// e.g. `sqlite://data/auditlog.db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
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
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
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
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true).pragma("cache_size", "-8192"))
            .await?;
        let writer = writer::Writer::spawn(&path)?;
        Ok(AuditStore {
            read,
            write,
            writer,
            counts: Default::default(),
            histograms: Default::default(),
            block_counts: Default::default(),
            match_sets: Default::default(),
            path: std::sync::Arc::new(path),
            anchor_min_offset: Some(ANCHOR_MIN_OFFSET),
            sort_by_index_rows: 20_000,
            exports: std::sync::Arc::new(tokio::sync::Semaphore::new(EXPORTS_AT_ONCE)),
        })
    }

    /// Sets past how many matching rows a walk sorted by action reads the action index (default 20,000; tests
    /// use 0 to take that path with a few rows).
    pub fn with_sort_by_index_rows(mut self, rows: u64) -> Self {
        self.sort_by_index_rows = rows;
        self
    }

    /// Sets how many exports may run at once (default 4); the others wait in `export_plan`.
    pub fn with_exports_at_once(mut self, n: usize) -> Self {
        self.exports = std::sync::Arc::new(tokio::sync::Semaphore::new(n.max(1)));
        self
    }

    /// Sets how many rows a page may skip before it starts from the day its first row is in (tests use 0, so
    /// that every deep page does); `None`: no page ever does, not even sorted by action (tests compare with
    /// that).
    pub fn with_anchor_min_offset(mut self, rows: Option<u64>) -> Self {
        self.anchor_min_offset = rows;
        self
    }

    /// Runs `change` on the event writer's connection and stores the event it returns (if any) in the same
    /// transaction: a panel change and the event that records it are committed together, or not at all.
    pub(super) async fn change<T: Send + 'static>(
        &self,
        change: impl FnOnce(&rusqlite::Transaction) -> Result<(T, Option<crate::model::NewEvent>), StoreError>
        + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
        let out = slot.clone();
        self.writer
            .change(Box::new(move |tx| {
                let (value, event) = change(tx)?;
                let events = event.map(|e| e.validate()).transpose()?.into_iter().collect();
                if let Ok(mut out) = out.lock() {
                    *out = Some(value);
                }
                Ok(events)
            }))
            .await?;
        let value = slot.lock().ok().and_then(|mut v| v.take());
        value.ok_or(StoreError::Database(sqlx::Error::PoolClosed))
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

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
