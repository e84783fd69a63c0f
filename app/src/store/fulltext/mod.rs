//! Free-text search. Substring matching over 1M rows with `LIKE '%x%'` reads every row when the term is
//! rare; a trigram FTS5 index answers that in milliseconds. The index is filled behind ingestion by
//! `index_pending` (the server runs it in a loop), so a burst of ingestion never waits for it: rows not yet
//! indexed are searched directly.
//!
//! The index also holds each event's structured values as tags (migration 13), so that a term next to
//! filters is one FTS5 query: it intersects the term's rows with the filters' rows, skipping through both.
//!
//! Which plan a search uses depends on how many indexed rows that query matches: up to `INDEX_PLAN_MAX`, the
//! page reads the set of rows the index names; beyond, it walks the table in the requested order and stops
//! as soon as the page is full, which is fast precisely because matches are dense (`events::plan`).

mod counts;
mod expr;
mod probe;

use std::sync::Arc;

use self::{
    counts::{INDEX_PLAN_MAX, at_least_key},
    expr::{match_expression, tag_condition},
    probe::proven_empty,
};
use super::{
    error::StoreError,
    filter::{TextPlan, like_pattern},
    handle::AuditStore,
    schema::tag,
    sql::{json_ids, json_rows},
};
use crate::model::AuditQuery;

pub(super) use counts::{count_indexed, count_set_by_action, fts_count, indexed_total, like_count, unindexed_count};

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

    /// Chooses the plan for a query's free text, given the `who` keys its actor filter resolved to (and
    /// whether they alone select the actor's events) and the addresses its IP range resolved to.
    pub(super) async fn text_plan(
        &self,
        q: &AuditQuery,
        actor: Option<(&[String], bool)>,
        ips: Option<&[String]>,
    ) -> Result<TextPlan, StoreError> {
        let Some(text) = q.q.as_deref() else {
            return Ok(TextPlan::None);
        };
        let pattern = like_pattern(text);
        // The trigram index cannot look up fewer than three characters.
        if text.chars().count() < 3 {
            return Ok(TextPlan::Scan {
                pattern,
                indexed: None,
                timed: None,
            });
        }
        // One snapshot, so that the count covers exactly the rows up to `indexed_through`.
        let mut tx = self.read.begin().await?;
        let (expr, exact, exact_but_time) = match_expression(&mut tx, text, q, actor, ips).await?;
        let indexed_through: i64 = sqlx::query_scalar("SELECT text_through FROM fts_progress WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        // A query once seen to match more than `INDEX_PLAN_MAX` indexed rows still does (rows leave the index
        // only in a retention purge, which forgets what was counted): auto-refresh, the next page and a change of sort skip the count (45 ms at 1M for a phrase of
        // common trigrams next to a tag, `q=newsletter&category=backup`).
        let known = self.counts.get(&at_least_key(&expr));
        let (matches, seqs) = match known {
            Some((n, _)) if n as i64 > INDEX_PLAN_MAX => (n as i64, String::new()),
            _ => {
                let set = self.match_set(&mut tx, (&expr, text), indexed_through).await?;
                (set.len() as i64, json_ids(&set))
            }
        };
        tx.commit().await?;
        if matches > INDEX_PLAN_MAX {
            self.counts.raise(at_least_key(&expr), matches as u64, indexed_through);
            let timed = (exact_but_time && !exact).then(|| (expr.clone(), indexed_through));
            let indexed = exact.then_some((expr, indexed_through));
            return Ok(TextPlan::Scan {
                pattern,
                indexed,
                timed,
            });
        }
        Ok(TextPlan::Index {
            seqs,
            indexed_through,
            pattern,
            matches,
            exact,
            expr,
        })
    }
}

impl AuditStore {
    /// The indexed matches of the FTS5 query `expr` through the index's mark `through` (read in the snapshot
    /// `conn` reads), at most `INDEX_PLAN_MAX + 1`: a set remembered from an earlier mark, with the rows
    /// indexed since, or all of them.
    async fn match_set(
        &self,
        conn: &mut sqlx::SqliteConnection,
        (expr, text): (&str, &str),
        through: i64,
    ) -> Result<Arc<Vec<i64>>, StoreError> {
        let (mut set, from) = match self.match_sets.get(expr) {
            Some((set, known)) if known <= through => (set, known),
            _ => (Arc::default(), 0),
        };
        if from == 0 && proven_empty(self, conn, (expr, text), through).await? {
            self.match_sets.put(expr, Arc::clone(&set), through);
            return Ok(set);
        }
        if from < through {
            let wanted = INDEX_PLAN_MAX + 1 - set.len() as i64;
            let added = index_matches(conn, expr, from, wanted).await?;
            Arc::make_mut(&mut set).extend(added);
            if set.len() as i64 <= INDEX_PLAN_MAX {
                self.match_sets.put(expr, Arc::clone(&set), through);
            }
        }
        Ok(set)
    }
}

/// The FTS5 query `expr` restricted to the events of one action (with the action's tag).
pub(super) async fn with_action(store: &AuditStore, expr: &str, action: &str) -> Result<String, StoreError> {
    let mut conn = store.read.acquire().await?;
    let tag = tag_condition(&mut conn, tag::ACTION, &[action.to_string()]).await?;
    Ok(format!("{expr} AND {tag}"))
}

/// The indexed matches of the FTS5 query `expr` above row id `after`, at most `limit`, in row id order. Read as
/// one JSON array: a row per match through sqlx costs more than the index's own work.
async fn index_matches(
    conn: &mut sqlx::SqliteConnection,
    expr: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let json: String = sqlx::query_scalar(
        "SELECT json_group_array(rowid) FROM \
         (SELECT rowid FROM events_fts WHERE events_fts MATCH ? AND rowid > ? ORDER BY rowid LIMIT ?)",
    )
    .bind(expr)
    .bind(after)
    .bind(limit)
    .fetch_one(conn)
    .await?;
    json_rows(&json)
}
