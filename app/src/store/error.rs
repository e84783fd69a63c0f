//! The store's one error type. Each variant says what failed; none is a catch-all that hides its cause.

use std::sync::Arc;

use crate::model::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input: the message names the field.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("not found")]
    NotFound,
    /// A statement on one of the rusqlite connections (the event writer, export).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The transaction that held this write failed (its error is shared by every request of the group).
    #[error("commit failed: {0}")]
    Commit(Arc<StoreError>),
    /// A statement on the sqlx pools (reads, the panel's writes).
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The event writer's thread is gone: nothing more can be stored.
    #[error("the event writer has stopped")]
    WriterGone,
    /// The store is shutting down: it takes no new work.
    #[error("the store is shutting down")]
    ShuttingDown,
    /// The caller already runs as many exports as one caller may (`Tuning::exports_per_caller`).
    #[error("at most {0} exports at once per caller")]
    TooManyExports(usize),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A stored value that cannot be what the schema says: the table, the row's key and the column.
    #[error("corrupt value in {table} row {row}, column {column}: {problem}")]
    Corrupt {
        table: &'static str,
        row: String,
        column: &'static str,
        problem: String,
    },
    /// A blocking task (export's walk, password hashing) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The log's signing key cannot be read, made or used as configured.
    #[error("log: {0}")]
    Log(String),
}

impl StoreError {
    /// True when the disk (or the file system's quota) holding the database is full: nothing was stored, and
    /// the same request succeeds once there is room again.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.code == rusqlite::ErrorCode::DiskFull,
            StoreError::Sqlx(sqlx::Error::Database(e)) => e.code().as_deref() == Some("13"),
            StoreError::Sqlx(sqlx::Error::Io(e)) | StoreError::Io(e) => e.kind() == std::io::ErrorKind::StorageFull,
            StoreError::Commit(inner) => inner.is_storage_full(),
            _ => false,
        }
    }

    /// A stored value of `table`'s row `row` that does not decode.
    pub fn corrupt(table: &'static str, row: &str, column: &'static str, problem: impl ToString) -> Self {
        StoreError::Corrupt {
            table,
            row: row.to_string(),
            column,
            problem: problem.to_string(),
        }
    }
}
