//! The filter SQL is written once and bound through either driver: sqlx for the pages, rusqlite for the
//! writer and export. Values are always bound, never spliced into the text.

use sqlx::{QueryBuilder, Sqlite};

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
pub(super) fn json_rows<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>, super::StoreError> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}
