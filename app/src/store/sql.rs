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
