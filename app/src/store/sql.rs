//! SQL through either driver: sqlx for the pages, rusqlite for the writer and export. The filter SQL is
//! written once (`filter`) into a `SqlSink` of either; values are always bound, never spliced into the text.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use sqlx::{QueryBuilder, Sqlite};

use super::error::StoreError;

/// Something SQL text and bound values can be appended to.
pub(super) trait SqlSink {
    fn sql(&mut self, text: &str) -> &mut Self;
    fn text(&mut self, value: String) -> &mut Self;
    fn int(&mut self, value: i64) -> &mut Self;

    /// `(v1, v2, …)`, each value bound: the list of an `IN`.
    fn texts(&mut self, values: &[String]) -> &mut Self {
        self.sql("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.text(v.clone());
        }
        self.sql(")")
    }
}

impl SqlSink for QueryBuilder<'_, Sqlite> {
    fn sql(&mut self, text: &str) -> &mut Self {
        self.push(text)
    }
    fn text(&mut self, value: String) -> &mut Self {
        self.push_bind(value)
    }
    fn int(&mut self, value: i64) -> &mut Self {
        self.push_bind(value)
    }
}

/// SQL text with its values in order, for rusqlite.
#[derive(Debug, Default)]
pub(super) struct RawSql {
    pub text: String,
    pub values: Vec<rusqlite::types::Value>,
}

impl SqlSink for RawSql {
    fn sql(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }
    fn text(&mut self, value: String) -> &mut Self {
        self.text.push('?');
        self.values.push(rusqlite::types::Value::Text(value));
        self
    }
    fn int(&mut self, value: i64) -> &mut Self {
        self.text.push('?');
        self.values.push(rusqlite::types::Value::Integer(value));
        self
    }
}

/// The rows of a query that SQLite returned as one JSON array (`json_group_array(json_array(…))`), each
/// deserialized as `T` (a tuple of its columns). sqlx hands rows over from its connection's thread one at a time,
/// each with a wake-up: a query of many rows (a page's, a histogram's, the blocks') costs less as one value.
/// The array's order is not the query's: callers that need an order sort what they get.
pub(super) fn json_rows<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}

/// A JSON array of row ids, for `json_each` (a list bound as one value, however long).
pub(super) fn json_ids(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// A rusqlite connection to the (already created and migrated) database file, set up like sqlx's: the
/// writer's, or a read-only one (export).
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
