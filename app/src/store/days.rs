//! What the per-day counts answer without counting events: a query's total (the first time it is asked), and
//! where a deep page starts.
//!
//! The writer keeps events per UTC day by each low-cardinality filter column and by actor (`day_counts`,
//! migrations 7 and 8), by combination of those columns (`day_cube`, migration 9), and by actor and
//! combination (`actor_day_cube`, migration 11). A query that filters on
//! those columns has a histogram of matching events per day (per action and day, for the action sort): whole
//! days from those tables, the partial days at the ends of its time range counted through the index. Its
//! sum is the total. Walking it in the sort order finds the day that holds a page's first row, so that the
//! page skips only the rows of that day instead of all the rows before it.

use std::sync::Arc;

use sqlx::{QueryBuilder, SqliteConnection};

use super::{
    caches::Kept,
    error::StoreError,
    filter::{ActorKeys, MAX_BOUND_LIST, Resolved, push_filters},
    schema::{self, DAY_MS},
    sql::{SqlSink, json_rows},
};
use crate::model::{AuditQuery, LogView, SortOrder, query::Filters};

/// Matching events on one day (of one action when the histogram is by action; otherwise `action` is empty).
#[derive(Clone, Debug)]
pub(super) struct DayCount {
    action: String,
    day: i64,
    n: i64,
}

/// A histogram as the cache shares it: its entries sorted by (action, day), each key once, none empty.
pub(super) type Histogram = Arc<Vec<DayCount>>;

/// How a histogram splits the matching events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Split {
    ByDay,
    ByAction,
}

/// True when the per-day counts hold `q`'s filters, so that it has a histogram: not for free text, a target
/// id, an IP range of more than `MAX_BOUND_LIST` stored addresses, two keys at once (an actor within a tenant,
/// an address next to an actor or a tenant), an actor's name shared by events of the same key that do not all
/// have it (to keep or to exclude), an excluded actor next to a kept one, or a range under two days (the index
/// counts that quickly). Decided without reading anything.
pub(super) fn counted_per_day(q: &AuditQuery, resolved: &Resolved) -> bool {
    let exact_actor = resolved.actor_keys().is_none_or(|(_, exact)| exact);
    let (first_day, end_day) = whole_days(q);
    let spans_a_day = match (first_day, end_day) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    // An excluded actor is counted as the other filters' events less the actor's (`subtracted`).
    let exclusion_counted = match (&q.exclude_actor, &resolved.excluded) {
        (None, _) => true,
        (Some(_), Some(excluded)) => q.actor.is_none() && excluded.exact,
        (Some(_), None) => false,
    };
    // A cube holds the actor (kept or excluded), the tenant or the address: not two at once.
    let by_actor = q.actor.is_some() || q.exclude_actor.is_some();
    let cubed = schema::day_cube([by_actor, q.tenant.is_some(), q.ip.is_some()]).is_some();
    let few_addresses = resolved.ips.as_ref().is_none_or(|ips| ips.len() <= MAX_BOUND_LIST);
    q.q.is_none() && q.target_id.is_none() && few_addresses && exclusion_counted && exact_actor && spans_a_day && cubed
}

/// The whole days of `q`'s range: from the first that starts at or after `from` to the last that ends at or
/// before `to` (an end day, exclusive).
fn whole_days(q: &AuditQuery) -> (Option<i64>, Option<i64>) {
    schema::whole_days(q.from.as_ref().map(|f| f.millis), q.to.as_ref().map(|t| t.millis))
}

/// The counted columns `q` filters on, with their values: the actor by its keys.
fn counted_columns(q: &AuditQuery, resolved: &Resolved) -> Vec<(&'static str, Vec<String>)> {
    let Filters {
        q: _,
        actions,
        category,
        // A verb, a view and a range reach the store's plans as actions, a category and `from`
        // (`AuditStore::plain`).
        view,
        verb,
        actor: _,
        // Not counted per day (`counted_per_day`).
        exclude_actor: _,
        actor_type,
        target_type,
        target_id: _,
        outcome,
        source,
        // Resolved to its addresses (`Resolved::ips`).
        ip: _,
        tenant,
        range,
        from: _,
        to: _,
    } = q.filters();
    debug_assert!(
        verb.is_none() && *view == LogView::All && range.is_none(),
        "a verb, a view and a range are served as actions, a category and `from`"
    );
    let actor = resolved.actor_keys().map(|(whos, _)| ("actor", whos.to_vec()));
    let ips = resolved.ips.as_ref().map(|ips| ("ip", ips.clone()));
    let actions = (!actions.is_empty()).then(|| ("action", actions.clone()));
    let one = |col: &'static str, v: Option<String>| v.map(|v| (col, vec![v]));
    [
        actor,
        ips,
        actions,
        one("category", category.clone()),
        one("outcome", outcome.map(|o| o.as_str().to_string())),
        one("actor_type", actor_type.map(|t| t.as_str().to_string())),
        one("target_type", target_type.clone()),
        one("source", source.clone()),
        one("tenant", tenant.clone()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The per-day histogram of the rows `q` matches, or `None` when its filters are not counted per day
/// (`counted_per_day`).
async fn histogram(
    conn: &mut SqliteConnection,
    q: &AuditQuery,
    resolved: &Resolved,
    split: Split,
) -> Result<Option<Vec<DayCount>>, StoreError> {
    if !counted_per_day(q, resolved) {
        return Ok(None);
    }
    if let (Some(excluded), Some(_)) = (&resolved.excluded, &q.exclude_actor) {
        return subtracted(conn, q, resolved, excluded, split).await;
    }
    let by_action = split == Split::ByAction;
    let columns = counted_columns(q, resolved);
    // One column's counts, or a cube (several columns, a column other than action by action, or the
    // addresses, which are not counted per day alone): the keyed cube of the actor, the tenant or the
    // addresses when one of them is among them.
    let single = match columns.as_slice() {
        [] if by_action => Some(("action", None)),
        [] => Some(("*", Some(vec![String::new()]))),
        [(col, values)] if *col != "ip" && (!by_action || *col == "action") => Some((*col, Some(values.clone()))),
        _ => None,
    };
    let named = |c: &str| columns.iter().any(|(col, _)| *col == c);
    // No cube holds two keys (an actor within a tenant): `counted_per_day` says no.
    let Some(cube) = schema::day_cube([named("actor"), named("tenant"), named("ip")]) else {
        return Ok(None);
    };
    let from = q.from.as_ref().map(|b| b.millis);
    let to = q.to.as_ref().map(|b| b.millis);
    let (first_day, end_day) = whole_days(q);
    let action_column = if by_action { "action" } else { "''" };
    let mut b = match single {
        Some((col, values)) => {
            let grouped = if by_action { "value" } else { "''" };
            let mut b = counts_query([grouped, "day", "SUM(n)"], "day_counts WHERE col = ");
            b.push_bind(col);
            if let Some(values) = values {
                push_in(&mut b, "value", &values);
            }
            b
        }
        None => {
            let mut b = counts_query([action_column, "day", "SUM(n)"], &format!("{cube} WHERE 1 = 1"));
            for (col, values) in &columns {
                // The actor cube keys actors by `who`.
                let col = if *col == "actor" { "who" } else { col };
                push_in(&mut b, col, values);
            }
            b
        }
    };
    if let Some(d) = first_day {
        b.push(" AND day >= ").push_bind(d);
    }
    if let Some(d) = end_day {
        b.push(" AND day < ").push_bind(d);
    }
    b.push(" GROUP BY 1, 2");
    let mut days = fetch_counts(b, &mut *conn).await?;
    let unbounded = AuditQuery {
        from: None,
        to: None,
        ..q.filters_only()
    };
    let ends = [
        from.zip(first_day).map(|(f, d)| (f, d * DAY_MS - 1)),
        to.zip(end_day).map(|(t, d)| (d * DAY_MS, t)),
    ];
    for (lo, hi) in ends.into_iter().flatten().filter(|(lo, hi)| lo <= hi) {
        let partial = count_rows(conn, "events", &unbounded, resolved, split, |b| {
            b.push(" AND ts >= ").push_bind(lo).push(" AND ts <= ").push_bind(hi);
        });
        days.extend(partial.await?);
    }
    Ok(Some(days))
}

/// The histogram of `q` with an excluded actor: the other filters' histogram less the actor's among them (as
/// negative entries, which `normalize` sums).
async fn subtracted(
    conn: &mut SqliteConnection,
    q: &AuditQuery,
    resolved: &Resolved,
    excluded: &ActorKeys,
    split: Split,
) -> Result<Option<Vec<DayCount>>, StoreError> {
    let others = AuditQuery {
        exclude_actor: None,
        ..q.clone()
    };
    let others_resolved = Resolved {
        excluded: None,
        ..resolved.clone()
    };
    let theirs = AuditQuery {
        actor: q.exclude_actor.clone(),
        ..others.clone()
    };
    let theirs_resolved = Resolved {
        actor: Some(excluded.clone()),
        ..others_resolved.clone()
    };
    let Some(mut days) = Box::pin(histogram(conn, &others, &others_resolved, split)).await? else {
        return Ok(None);
    };
    let Some(of_actor) = Box::pin(histogram(conn, &theirs, &theirs_resolved, split)).await? else {
        return Ok(None);
    };
    days.extend(of_actor.into_iter().map(|d| DayCount { n: -d.n, ..d }));
    Ok(Some(days))
}

/// The matching rows counted per (action, day) from the events themselves, as `table` reads them, with
/// `bounds` added to the filters: the partial days at the ends of a range, or the rows inserted since a
/// histogram was made.
async fn count_rows(
    conn: &mut SqliteConnection,
    table: &str,
    q: &AuditQuery,
    resolved: &Resolved,
    split: Split,
    bounds: impl FnOnce(&mut QueryBuilder<'_, sqlx::Sqlite>),
) -> Result<Vec<DayCount>, StoreError> {
    let action_column = if split == Split::ByAction { "action" } else { "''" };
    let day = format!("(ts - ((ts % {DAY_MS}) + {DAY_MS}) % {DAY_MS}) / {DAY_MS}");
    let mut b = counts_query([action_column, &day, "COUNT(*)"], table);
    push_filters(&mut b, q, resolved);
    bounds(&mut b);
    b.push(" GROUP BY 1, 2");
    fetch_counts(b, conn).await
}

/// Starts a query of `(action, day, n)` rows, those three expressions `FROM` and `from`; the caller writes the
/// rest of it and `fetch_counts` reads its rows as one JSON array. A histogram by action and day has thousands
/// of rows, and sqlx hands rows over from its connection's thread one at a time (see `sql::json_rows`): an
/// actor's first page sorted by action spent 40 ms reading its 8,653.
fn counts_query([action, day, n]: [&str; 3], from: &str) -> QueryBuilder<'static, sqlx::Sqlite> {
    QueryBuilder::new(format!(
        "SELECT json_group_array(json_array(a, d, n)) FROM (SELECT {action} AS a, {day} AS d, {n} AS n FROM {from}"
    ))
}

async fn fetch_counts(
    mut b: QueryBuilder<'_, sqlx::Sqlite>,
    conn: &mut SqliteConnection,
) -> Result<Vec<DayCount>, StoreError> {
    b.push(")");
    let json: String = b.build_query_scalar().fetch_one(&mut *conn).await?;
    let rows: Vec<(String, i64, i64)> = json_rows(&json)?;
    Ok(rows
        .into_iter()
        .map(|(action, day, n)| DayCount { action, day, n })
        .collect())
}

/// ` AND column IN (values…)`, bound. Column names come from this module, never from the request.
fn push_in(b: &mut QueryBuilder<'_, sqlx::Sqlite>, column: &str, values: &[String]) {
    b.sql(&format!(" AND {column} IN ")).texts(values);
}

/// The number of rows in the histogram.
pub(super) fn total(days: &[DayCount]) -> u64 {
    days.iter().map(|d| d.n.max(0) as u64).sum()
}

/// In entries of `(key, rows)` in ascending order, the one that holds the row after `offset` rows in the sort
/// order, how many rows of it come before that row, and how many it holds. `None` when the offset is past the
/// last row.
fn locate<K>(
    entries: impl DoubleEndedIterator<Item = (K, u64)>,
    order: SortOrder,
    offset: u64,
) -> Option<(K, u64, u64)> {
    let mut before = 0u64;
    let mut holds = |(key, n): (K, u64)| {
        if before + n > offset {
            return Some((key, offset - before, n));
        }
        before += n;
        None
    };
    match order {
        SortOrder::Desc => entries.rev().find_map(&mut holds),
        SortOrder::Asc => entries.into_iter().find_map(&mut holds),
    }
}

/// The day of a histogram by day (or of one action's entries) that holds the row after `offset` rows in the
/// sort order, how many rows of it come before that row, and how many it holds.
pub(super) fn locate_day(days: &[DayCount], order: SortOrder, offset: u64) -> Option<(i64, u64, u64)> {
    locate(days.iter().map(|d| (d.day, d.n as u64)), order, offset)
}

/// The action of a histogram by action that holds the row after `offset` rows in the sort order, and how many
/// rows of it come before that row.
pub(super) fn locate_action(days: &[DayCount], order: SortOrder, offset: u64) -> Option<(&str, u64)> {
    let totals = action_runs(days)
        .into_iter()
        .map(|run| (run[0].action.as_str(), total(run)));
    locate(totals, order, offset).map(|(action, rest, _)| (action, rest))
}

/// The entries of each action in turn, found by binary search: a histogram by action and day holds thousands
/// of entries for a few dozen actions, and comparing each entry's action with the next one's took a tenth of
/// the time of a page sorted by action.
fn action_runs(days: &[DayCount]) -> Vec<&[DayCount]> {
    let mut runs = Vec::new();
    let mut rest = days;
    while let Some(first) = rest.first() {
        let end = rest.partition_point(|d| d.action == first.action);
        runs.push(&rest[..end]);
        rest = &rest[end..];
    }
    runs
}

/// Sorts the entries by (action, day), each key once (the whole days and the partial days at the ends of a
/// range, or counts added later, are summed), without empty ones.
fn normalize(days: &mut Vec<DayCount>) {
    days.sort_by(|a, b| (a.action.as_str(), a.day).cmp(&(b.action.as_str(), b.day)));
    days.dedup_by(|next, kept| {
        let same = (next.action.as_str(), next.day) == (kept.action.as_str(), kept.day);
        if same {
            kept.n += next.n;
        }
        same
    });
    days.retain(|d| d.n > 0);
}

/// The entries of one action.
pub(super) fn of_action<'a>(days: &'a [DayCount], action: &str) -> &'a [DayCount] {
    let start = days.partition_point(|d| d.action.as_str() < action);
    let end = days.partition_point(|d| d.action.as_str() <= action);
    &days[start..end]
}

/// The actions with matching rows, in the sort order.
pub(super) fn actions_in_order(days: &[DayCount], order: SortOrder) -> Vec<String> {
    let mut actions: Vec<String> = action_runs(days).into_iter().map(|run| run[0].action.clone()).collect();
    if order == SortOrder::Desc {
        actions.reverse();
    }
    actions
}

/// Histograms of recent queries with the `seq` they are exact through, as `CountCache` keeps totals: a later
/// page of the same filter counts only the rows inserted since (a rowid range), instead of summing the per-day
/// tables again. Anything that ever deletes events (a retention purge) must also empty this cache.
#[derive(Debug)]
pub(super) struct HistogramCache {
    entries: Kept<(Histogram, i64)>,
}

impl HistogramCache {
    /// Forgets every histogram.
    pub(super) fn clear(&self) {
        self.entries.clear();
    }

    /// Keeps the histograms of at most `max` filters; past that it starts over.
    pub(super) fn new(max: usize) -> Self {
        HistogramCache {
            entries: Kept::new(max),
        }
    }

    /// `histogram` of `q` in the snapshot `conn` reads, from the cache when it can, with the `seq` it is exact
    /// through: its entries sorted by (action, day), each key once, none empty. Shared with the cache, so that
    /// a page that finds nothing new copies nothing (by action and day, an actor's histogram has about 10,000
    /// entries at 1M events).
    pub(super) async fn get(
        &self,
        conn: &mut SqliteConnection,
        q: &AuditQuery,
        resolved: &Resolved,
        split: Split,
    ) -> Result<Option<(Histogram, i64)>, StoreError> {
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&mut *conn)
            .await?;
        let key = format!("{}#{split:?}", q.filters_key());
        let known = self.entries.get(&key);
        let mut days = match known {
            Some((days, through)) if through == head => return Ok(Some((days, head))),
            Some((days, through)) if through < head => {
                // Only the rows inserted since, by rowid range.
                let added = count_rows(conn, "events NOT INDEXED", q, resolved, split, |b| {
                    b.push(" AND seq > ")
                        .push_bind(through)
                        .push(" AND seq <= ")
                        .push_bind(head);
                });
                let mut days = Vec::clone(&days);
                days.extend(added.await?);
                days
            }
            _ => match histogram(conn, q, resolved, split).await? {
                Some(days) => days,
                None => return Ok(None),
            },
        };
        normalize(&mut days);
        let days = Arc::new(days);
        self.entries.put(key, Arc::clone(&days), head);
        Ok(Some((days, head)))
    }
}

/// The first instant of a day newest first (its last millisecond), or oldest first (its first).
pub(super) fn day_edge(day: i64, order: SortOrder) -> i64 {
    match order {
        SortOrder::Desc => (day + 1) * DAY_MS - 1,
        SortOrder::Asc => day * DAY_MS,
    }
}
