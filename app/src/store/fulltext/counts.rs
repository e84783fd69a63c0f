//! Counting a search's matches through the index, remembered with the index's mark: rows leave the index
//! only in a retention purge (which forgets every count), so the next count asks only about the rows indexed
//! since.

use super::probe::proven_empty;
use crate::{
    model::AuditQuery,
    store::{
        error::StoreError,
        filter::{Resolved, TextPlan, push_like, push_structured},
        handle::AuditStore,
    },
};

/// Plans with at most this many indexed matches read their rows through the index. Above it, the total of a
/// search is shown as a lower bound anyway ("10,000+"), so there is no need to count further.
pub(super) const INDEX_PLAN_MAX: i64 = crate::model::query::TEXT_COUNT_CAP as i64;

/// How many events the FTS5 query `expr` matches among those the index held at `through`, counting no further
/// than `cap`. A count under `cap` is exact and is remembered with `through` (in the store's count cache), so
/// that the next request counts only the rows indexed since: a page sorted by action asks this of every
/// action before its own, and auto-refresh asks again every ten seconds. A count that reached `cap` is
/// remembered as a lower bound (until a purge, which forgets it). `like` is the same search as a query
/// and its LIKE pattern (`expr` holds every filter of the query), for counting a few new rows directly.
pub(in crate::store) async fn count_indexed(
    store: &AuditStore,
    expr: &str,
    through: i64,
    cap: i64,
    (q, resolved, pattern): (&AuditQuery, &Resolved, &str),
) -> Result<i64, StoreError> {
    // A count that reached its cap is kept too, as a lower bound: enough for any cap up to it.
    let at_least = at_least_key(expr);
    if let Some((n, _)) = store.counts.get(&at_least)
        && n as i64 >= cap
    {
        return Ok(n as i64);
    }
    let key = exact_key(expr);
    let (known, from) = match store.counts.get(&key) {
        Some((n, known_through)) if known_through <= through => (n as i64, known_through),
        _ => (0, 0),
    };
    let wanted = (cap - known).max(0);
    let text = q.q.as_deref().unwrap_or_default();
    let nothing_new = from == through;
    let added: i64 = if nothing_new
        || (from == 0 && proven_empty(store, &mut *store.read.acquire().await?, (expr, text), through).await?)
    {
        0
    } else if from > 0 && through - from <= store.tuning.like_delta_rows {
        like_count(store, q, resolved, (from, Some(through)), pattern, wanted).await?
    } else {
        fts_count(store, expr, (from, through), wanted).await?
    };
    let n = known + added;
    if n < cap {
        store.counts.put(key, n as u64, through);
    } else {
        store.counts.raise(at_least, n as u64, through);
    }
    Ok(n)
}

/// How many events in the range of row ids `(after, upto]` the FTS5 query `expr` matches, counting no further
/// than `cap`.
pub(in crate::store) async fn fts_count(
    store: &AuditStore,
    expr: &str,
    (after, upto): (i64, i64),
    cap: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ? \
         AND rowid > ? AND rowid <= ? LIMIT ?)",
    )
    .bind(expr)
    .bind(after)
    .bind(upto)
    .bind(cap)
    .fetch_one(&store.read)
    .await?)
}

/// Remembers, for each action of `actions` (with its FTS5 query: a search's, with the action's tag), how many
/// of the search's indexed matches (`seqs`, a JSON array of `size` row ids, exact through the index's mark
/// `through`) are its events, as `count_indexed` would count them. Every match is an event of one of
/// `actions` (the actions with events that match the query's filters, which the index holds), so the counts
/// add up to `size`: with one count left unknown, it is the rest, and nothing is read. Otherwise one read of
/// the set's rows (about 10,000 at most) counts them all, instead of an FTS5 query per action, where an
/// action without matches costs a walk through two lists (`q=nightly-12&outcome=success&sort=action`:
/// 1.3–2.2 s at 10M the first time). That read is random: 0.5 s at 1M with the file not in the OS's cache
/// (`q=zoe&outcome=failure&sort=action`, whose filters leave one action, is no longer read).
pub(in crate::store) async fn count_set_by_action(
    store: &AuditStore,
    (seqs, size): (&str, i64),
    through: i64,
    actions: &[(String, String)],
) -> Result<(), StoreError> {
    let known = |expr: &str| match store.counts.get(&exact_key(expr)) {
        Some((n, t)) if t == through => Some(n as i64),
        _ => None,
    };
    let unknown: Vec<&String> = actions
        .iter()
        .filter_map(|(_, expr)| known(expr).is_none().then_some(expr))
        .collect();
    match unknown.as_slice() {
        [] => {}
        [last] => {
            let counted: i64 = actions.iter().filter_map(|(_, expr)| known(expr)).sum();
            store
                .counts
                .put(exact_key(last), (size - counted).max(0) as u64, through);
        }
        _ => {
            let counted: std::collections::HashMap<String, i64> = sqlx::query_as(
                "SELECT action, COUNT(*) FROM events WHERE seq IN (SELECT value FROM json_each(?)) \
                 GROUP BY action",
            )
            .bind(seqs)
            .fetch_all(&store.read)
            .await?
            .into_iter()
            .collect();
            for (action, expr) in actions {
                let n = counted.get(action).copied().unwrap_or(0);
                store.counts.put(exact_key(expr), n as u64, through);
            }
        }
    }
    Ok(())
}

/// The count cache's key for the exact count of the FTS5 query `expr`'s indexed matches.
fn exact_key(expr: &str) -> String {
    format!("fts\u{0}{expr}")
}

/// The count cache's key for a lower bound of the FTS5 query `expr`'s indexed matches.
pub(super) fn at_least_key(expr: &str) -> String {
    format!("fts>=\u{0}{expr}")
}

/// The count of a search through the index, when the index holds every filter of the query: the indexed
/// matches (counted by the plan, or, when there are more than `INDEX_PLAN_MAX`, now, unless `cap` is below
/// that), plus the matching rows the indexer has not reached, at most `cap` of those. A count above `cap` is
/// only a lower bound. `None` for other searches.
pub(in crate::store) async fn indexed_total(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &Resolved,
    cap: i64,
) -> Result<Option<u64>, StoreError> {
    let (indexed, through, pattern) = match &resolved.text {
        TextPlan::Index {
            indexed_through,
            pattern,
            matches,
            exact: true,
            ..
        } => (*matches, *indexed_through, pattern),
        TextPlan::Scan {
            pattern,
            indexed: Some((expr, indexed_through)),
            ..
        } => {
            // More than `INDEX_PLAN_MAX` indexed rows match: enough for a count that stops at `cap`.
            if cap <= INDEX_PLAN_MAX + 1 {
                return Ok(Some((INDEX_PLAN_MAX + 1) as u64));
            }
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH ?")
                .bind(expr)
                .fetch_one(&store.read)
                .await?;
            (n, *indexed_through, pattern)
        }
        _ => return Ok(None),
    };
    let unindexed = unindexed_count(store, q, resolved, through, pattern, cap).await?;
    Ok(Some((indexed + unindexed) as u64))
}

/// How many events above the index's mark `through` match the query's filters and its LIKE `pattern`, counting
/// no further than `cap`.
pub(in crate::store) async fn unindexed_count(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &Resolved,
    through: i64,
    pattern: &str,
    cap: i64,
) -> Result<i64, StoreError> {
    like_count(store, q, resolved, (through, None), pattern, cap).await
}

/// How many events in the range of row ids `(after, upto]` (no upper end: `None`) match the query's filters
/// and its LIKE `pattern`, counting no further than `cap`.
pub(in crate::store) async fn like_count(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &Resolved,
    (after, upto): (i64, Option<i64>),
    pattern: &str,
    cap: i64,
) -> Result<i64, StoreError> {
    // By row id from the mark on: left to itself, SQLite may walk a filter's whole index instead.
    let mut b = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM events NOT INDEXED");
    push_structured(&mut b, q, resolved);
    b.push(" AND seq > ").push_bind(after);
    if let Some(upto) = upto {
        b.push(" AND seq <= ").push_bind(upto);
    }
    b.push(" AND ");
    push_like(&mut b, pattern);
    b.push(" LIMIT ").push_bind(cap).push(")");
    Ok(b.build_query_scalar().fetch_one(&store.read).await?)
}
