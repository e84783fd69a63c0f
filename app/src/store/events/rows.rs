//! Reading a page's rows: the query that returns them as one JSON array, putting them in the page's order, the
//! cursor after the last, and a page filled from parts in order (`PageFill`).

use sqlx::QueryBuilder;

use crate::{
    model::{AuditQuery, EventRow, SortKey, SortOrder, query::Cursor},
    store::{
        error::StoreError,
        schema::{PageRow, PageRows, page_columns},
        sql::{json_ids, json_rows},
    },
};

/// Starts the query for a page's rows: `SELECT <page columns> FROM ` and `from`; the caller writes the rest
/// (filters, order, limit) and `fetch_rows` closes and reads it. The rows come back as one JSON array:
/// sqlx hands each row over from its connection's thread on its own, waking the reader, and then each
/// column is looked up by name, which was a third of the time of a page of 50 rows at 1M events.
pub(super) fn rows_query(from: &str) -> QueryBuilder<'static, sqlx::Sqlite> {
    let columns = page_columns();
    QueryBuilder::new(format!(
        "SELECT json_group_array(json_array({columns})) FROM (SELECT {columns} FROM {from}"
    ))
}

/// Reads the rows of a query that `rows_query` started, in no particular order (see `sort_in_page_order`).
pub(super) async fn fetch_rows<'e>(
    mut b: QueryBuilder<'_, sqlx::Sqlite>,
    conn: impl sqlx::SqliteExecutor<'e>,
) -> Result<PageRows, StoreError> {
    b.push(")");
    let json: String = b.build_query_scalar().fetch_one(conn).await?;
    Ok(json_rows::<PageRow>(&json)?
        .into_iter()
        .map(PageRow::into_row)
        .collect())
}

/// The rows with these seqs.
pub(super) async fn rows_by_seq(pool: &sqlx::SqlitePool, seqs: &[i64]) -> Result<PageRows, StoreError> {
    let mut b = rows_query("events WHERE seq IN (SELECT value FROM json_each(");
    b.push_bind(json_ids(seqs)).push("))");
    fetch_rows(b, pool).await
}

/// Puts a page's rows in the query's order (its `ORDER BY`: the action when sorting by it, then time and id).
pub(super) fn sort_in_page_order(rows: &mut PageRows, q: &AuditQuery) {
    fn key(sort: SortKey, (millis, row): &(i64, EventRow)) -> (&str, i64, &str) {
        let action = match sort {
            SortKey::Action => row.action.as_str(),
            SortKey::Timestamp => "",
        };
        (action, *millis, row.id.as_str())
    }
    let sort = q.sort;
    rows.sort_by(|a, b| match q.order {
        SortOrder::Asc => key(sort, a).cmp(&key(sort, b)),
        SortOrder::Desc => key(sort, b).cmp(&key(sort, a)),
    });
}

/// The cursor after the row with this action, time and id, in `q`'s order (the action is its key only when
/// sorting by action).
pub(super) fn cursor_at(q: &AuditQuery, action: &str, millis: i64, id: &str) -> Cursor {
    let key = match q.sort {
        SortKey::Timestamp => String::new(),
        SortKey::Action => action.to_string(),
    };
    Cursor {
        key,
        millis,
        id: id.to_string(),
    }
}

/// A page filled from parts in their order (actions, segments of blocks): a part the page starts after is
/// skipped whole; the others are read for what is left to skip and what is still needed.
pub(super) struct PageFill {
    pub skip: u64,
    pub need: u64,
    pub rows: PageRows,
}

impl PageFill {
    pub(super) fn new(q: &AuditQuery) -> Self {
        PageFill {
            skip: q.offset(),
            need: u64::from(q.page_size),
            rows: Vec::new(),
        }
    }

    /// Skips a part of `n` rows when the page starts after it; true when it did.
    pub(super) fn skips(&mut self, n: u64) -> bool {
        if n > self.skip {
            return false;
        }
        self.skip -= n;
        true
    }

    /// Reads the page's rows from a part (its query in the page's order, without a LIMIT); true once the page
    /// is full.
    pub(super) async fn take(
        &mut self,
        mut b: QueryBuilder<'_, sqlx::Sqlite>,
        pool: &sqlx::SqlitePool,
    ) -> Result<bool, StoreError> {
        b.push(" LIMIT ").push_bind(self.need as i64);
        b.push(" OFFSET ").push_bind(self.skip as i64);
        let found = fetch_rows(b, pool).await?;
        self.need = self.need.saturating_sub(found.len() as u64);
        self.rows.extend(found);
        self.skip = 0;
        Ok(self.need == 0)
    }
}
