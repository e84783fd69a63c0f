//! Free-text search. Substring matching over 1M rows with `LIKE '%x%'` reads every row when the term is
//! rare; a trigram FTS5 index answers that in milliseconds. The index is filled behind ingestion by
//! `index_pending` (the server runs it in a loop), so a burst of ingestion never waits for it: rows not yet
//! indexed are searched directly.
//!
//! Which plan a search uses depends on how common its term is: a rare term reads the (small) set of rows the
//! index names; a common one walks the table in the requested order and stops as soon as the page is full,
//! which is fast precisely because matches are dense.

use super::{AuditStore, StoreError, sql::SqlSink};
use crate::model::AuditQuery;

/// Columns a free-text search looks in, in the order they are indexed.
pub(super) const SEARCHED: [&str; 10] = [
    "action",
    "actor_id",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "source",
    "ip",
    "details",
];

/// One indexing step on the writer's connection: the next `limit` events above `indexed_through`, into the
/// free-text index and the target-id index.
pub(super) fn index_batch(conn: &mut rusqlite::Connection, limit: i64) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from: i64 = tx.query_row("SELECT indexed_through FROM fts_progress WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let through: Option<i64> = tx.query_row(
        "SELECT MAX(seq) FROM (SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
        [from, limit],
        |r| r.get(0),
    )?;
    let Some(through) = through else { return Ok(0) };
    let body = format!("concat_ws(char(10), {})", SEARCHED.join(", "));
    let indexed = tx.execute(
        &format!("INSERT INTO events_fts (rowid, body) SELECT seq, {body} FROM events WHERE seq > ?1 AND seq <= ?2"),
        [from, through],
    )?;
    // The target-id index (migration 8) is kept by the same step, its batch sorted so that the inserts walk
    // the b-tree once in order.
    tx.execute(
        "INSERT INTO target_events (target_id, seq) SELECT target_id, seq FROM events \
         WHERE seq > ?1 AND seq <= ?2 AND target_id IS NOT NULL ORDER BY target_id, seq",
        [from, through],
    )?;
    tx.execute("UPDATE fts_progress SET indexed_through = ?1 WHERE id = 1", [through])?;
    tx.commit()?;
    Ok(indexed as u64)
}

/// Terms whose index matches are at most this many are read through the index.
const INDEX_PLAN_MAX: i64 = 20_000;

/// How a search's text condition is written.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) enum TextPlan {
    /// No free text.
    #[default]
    None,
    /// `seq IN (index matches UNION ALL rows above the indexed range that match LIKE …)`.
    Index {
        phrase: String,
        indexed_through: i64,
        pattern: String,
        /// How many indexed rows the phrase matches (all of them: at most `INDEX_PLAN_MAX`), read in the same
        /// snapshot as `indexed_through`.
        matches: i64,
    },
    /// `LIKE` on every searched column.
    Scan { pattern: String },
}

fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 phrase that matches the text as a substring (trigram tokenizer).
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl AuditStore {
    /// True while event inserts are waiting: background work (the indexer) should step aside.
    pub fn writes_pending(&self) -> bool {
        self.writer.busy()
    }

    /// Indexes up to `limit` events not yet in the free-text index; returns how many it indexed. The work
    /// runs on the event writer's connection, between insert transactions, so it never contends with them.
    pub async fn index_pending(&self, limit: i64) -> Result<u64, StoreError> {
        self.writer.index(limit).await
    }

    /// Chooses the plan for a search term.
    pub(super) async fn text_plan(&self, text: Option<&str>) -> Result<TextPlan, StoreError> {
        let Some(text) = text else { return Ok(TextPlan::None) };
        let pattern = like_pattern(text);
        // The trigram index cannot look up fewer than three characters.
        if text.chars().count() < 3 {
            return Ok(TextPlan::Scan { pattern });
        }
        let phrase = phrase(text);
        // One snapshot, so that the count covers exactly the rows up to `indexed_through`.
        let mut tx = self.read.begin().await?;
        let matches: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM events_fts WHERE events_fts MATCH ? LIMIT ?)")
                .bind(&phrase)
                .bind(INDEX_PLAN_MAX + 1)
                .fetch_one(&mut *tx)
                .await?;
        if matches > INDEX_PLAN_MAX {
            return Ok(TextPlan::Scan { pattern });
        }
        let indexed_through: i64 = sqlx::query_scalar("SELECT indexed_through FROM fts_progress WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TextPlan::Index {
            phrase,
            indexed_through,
            pattern,
            matches,
        })
    }
}

/// The total of a search for text alone (no other filter) through the index: the index's matches, which the
/// plan counted already, plus the matching rows the indexer has not reached. `None` for other searches.
pub(super) async fn text_only_total(
    store: &AuditStore,
    q: &AuditQuery,
    plan: &TextPlan,
    cap: i64,
) -> Result<Option<u64>, StoreError> {
    let TextPlan::Index {
        indexed_through,
        pattern,
        matches,
        ..
    } = plan
    else {
        return Ok(None);
    };
    if q.has_filters_besides_text() {
        return Ok(None);
    }
    let mut b = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE seq > ");
    b.push_bind(*indexed_through).push(" AND ");
    push_like(&mut b, pattern);
    b.push(" LIMIT ").push_bind(cap).push(")");
    let unindexed: i64 = b.build_query_scalar().fetch_one(&store.read).await?;
    Ok(Some((matches + unindexed) as u64))
}

fn push_like(b: &mut impl SqlSink, pattern: &str) {
    b.sql("(");
    for (i, column) in SEARCHED.iter().enumerate() {
        if i > 0 {
            b.sql(" OR ");
        }
        b.sql(column)
            .sql(" LIKE ")
            .text(pattern.to_string())
            .sql(" ESCAPE '\\'");
    }
    b.sql(")");
}

/// ` AND <text condition>` for the plan.
pub(super) fn push_text(b: &mut impl SqlSink, plan: &TextPlan) {
    match plan {
        TextPlan::None => {}
        TextPlan::Scan { pattern } => {
            b.sql(" AND ");
            push_like(b, pattern);
        }
        TextPlan::Index {
            phrase,
            indexed_through,
            pattern,
            ..
        } => {
            // One set of row ids (the index's matches, and the matches among rows not yet indexed): an `OR` of
            // the two would make SQLite scan the table.
            b.sql(" AND seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ")
                .text(phrase.clone());
            b.sql(" UNION ALL SELECT seq FROM events WHERE seq > ")
                .int(*indexed_through)
                .sql(" AND ");
            push_like(b, pattern);
            b.sql(")");
        }
    }
}
