//! A query's filters as SQL: decided against the data once (`Resolved`: the actor's keys, how far the
//! target-id index reaches, how the text is searched), then written into any statement through a `SqlSink`,
//! every value bound. Every place that must handle all filters destructures the query without `..`, so a new
//! filter does not compile until it is handled.

use super::{
    schema::{SEARCHED, WHO},
    sql::SqlSink,
};
use crate::model::{
    ActorType, AuditQuery, LogView, SortKey, SortOrder,
    query::{Cursor, Filters},
};

/// A query's filters as decided against the data.
#[derive(Clone, Debug, Default)]
pub(super) struct Resolved {
    pub actor: Option<ActorKeys>,
    /// The keys of the actor whose events are left out (`exclude_actor`).
    pub excluded: Option<ActorKeys>,
    /// The last event the target-id index holds (rows above it are checked directly).
    pub target_indexed_through: i64,
    /// The stored addresses in the query's IP range (`ip`), sorted: the range is read as these through
    /// `events_by_address`.
    pub ips: Option<Vec<String>>,
    pub text: TextPlan,
}

/// The `who` keys (see migration 8) of the actors whose id, email or name is `value`.
#[derive(Clone, Debug)]
pub(super) struct ActorKeys {
    pub value: String,
    pub whos: Vec<String>,
    /// Every event of these keys has the value (so the keys alone select exactly its events).
    pub exact: bool,
}

/// How the events table is read: the index SQLite picks, the table by row id only, or the action index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `events`: SQLite chooses the index from the filters.
    Table,
    /// `events NOT INDEXED`: a set of row ids (a target id's, a term's) drives the read; SQLite must not walk
    /// another filter's index testing every entry against the set (at 10M events, a term without matches
    /// next to `outcome=failure` read 800,000 index entries).
    NotIndexed,
    /// `events INDEXED BY events_by_action`: the order of a sort by action, without sorting the rows.
    ByAction,
    /// `events INDEXED BY events_by_tenant_action`: the same within one tenant (the action index would be
    /// walked through every tenant's events).
    ByTenantAction,
    /// `events INDEXED BY events_by_time`: the order of a sort by time, for a search that tests every row it
    /// reads anyway (LIKE) next to filters that match much of the log.
    ByTime,
}

impl Source {
    /// The index that holds the order of a sort by action: within the query's tenant when it has one.
    pub(super) fn by_action(q: &AuditQuery) -> Source {
        match q.tenant {
            Some(_) => Source::ByTenantAction,
            None => Source::ByAction,
        }
    }

    pub(super) fn sql(self) -> &'static str {
        match self {
            Source::Table => "events",
            Source::NotIndexed => "events NOT INDEXED",
            Source::ByAction => "events INDEXED BY events_by_action",
            Source::ByTenantAction => "events INDEXED BY events_by_tenant_action",
            Source::ByTime => "events INDEXED BY events_by_time",
        }
    }
}

impl Resolved {
    /// The same filters without the free text.
    pub(super) fn without_text(&self) -> Resolved {
        Resolved {
            text: TextPlan::None,
            ..self.clone()
        }
    }

    /// The events table as a query with these filters reads it when SQLite may choose (see `Source`).
    pub(super) fn table(&self, q: &AuditQuery) -> Source {
        let by_text_index = matches!(self.text, TextPlan::Index { .. }) && q.has_filters_besides_text();
        if by_text_index || q.target_id.is_some() {
            Source::NotIndexed
        } else {
            Source::Table
        }
    }

    /// The actor filter's `who` keys, and whether they alone select exactly its events.
    pub(super) fn actor_keys(&self) -> Option<(&[String], bool)> {
        self.actor.as_ref().map(|a| (a.whos.as_slice(), a.exact))
    }
}

/// How a search's text condition is written.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) enum TextPlan {
    /// No free text.
    #[default]
    None,
    /// `seq IN (index matches UNION ALL rows above the indexed range that match LIKE …)`.
    Index {
        /// The index's matches: a JSON array of row ids, read when the plan was chosen (or remembered, with the rows
        /// indexed since: `MatchSets`).
        seqs: String,
        /// The last event the free-text index holds.
        indexed_through: i64,
        pattern: String,
        /// How many indexed rows the FTS5 query matches (all of them: at most the set's limit), read in the
        /// same snapshot as `indexed_through`.
        matches: i64,
        /// The FTS5 query holds every filter of the query, so `matches` is the query's count over the indexed
        /// rows.
        exact: bool,
        /// The FTS5 query.
        expr: String,
    },
    /// `LIKE` on every searched column.
    Scan {
        pattern: String,
        /// When the index holds every filter of the query: its FTS5 query and the last event it holds. The
        /// plan was chosen because that query matches more than a set holds.
        indexed: Option<(String, i64)>,
        /// The same when the index holds every filter but `from`/`to`, which it does not hold: the query's
        /// count is then read block by block.
        timed: Option<(String, i64)>,
    },
}

/// A search through the index: its FTS5 query, the last event the index holds, the LIKE pattern for the rows
/// above it.
pub(super) type IndexedQuery<'a> = (&'a str, i64, &'a str);

impl TextPlan {
    /// A search through the index that holds all of its filters: its count of indexed matches and its LIKE
    /// pattern.
    pub(super) fn exact_matches(&self) -> Option<(u64, &str)> {
        match self {
            TextPlan::Index {
                matches,
                exact: true,
                pattern,
                ..
            } => Some((*matches as u64, pattern)),
            _ => None,
        }
    }

    /// A search that walks the table although the index holds all of its filters.
    pub(super) fn indexed_query(&self) -> Option<IndexedQuery<'_>> {
        match self {
            TextPlan::Scan {
                pattern,
                indexed: Some((expr, through)),
                ..
            } => Some((expr, *through, pattern)),
            _ => None,
        }
    }

    /// A search that walks the table, with a time range, although the index holds all of its other filters.
    pub(super) fn timed_query(&self) -> Option<IndexedQuery<'_>> {
        match self {
            TextPlan::Scan {
                pattern,
                timed: Some((expr, through)),
                ..
            } => Some((expr, *through, pattern)),
            _ => None,
        }
    }

    /// A search through the index that holds all of its filters, read as a set: its matches (a JSON array of
    /// row ids) and how many they are.
    pub(super) fn exact_set(&self) -> Option<(&str, i64)> {
        match self {
            TextPlan::Index {
                seqs,
                matches,
                exact: true,
                ..
            } => Some((seqs, *matches)),
            _ => None,
        }
    }

    /// A search through the index that holds all of its filters, whichever its plan.
    pub(super) fn exact_query(&self) -> Option<IndexedQuery<'_>> {
        match self {
            TextPlan::Index {
                expr,
                indexed_through,
                pattern,
                exact: true,
                ..
            } => Some((expr, *indexed_through, pattern)),
            _ => self.indexed_query(),
        }
    }

    /// A search read with LIKE over the table, which the index cannot serve at all (fewer than three
    /// characters, or a term too common to count next to filters the index does not hold).
    pub(super) fn unindexed(&self) -> bool {
        matches!(
            self,
            TextPlan::Scan {
                indexed: None,
                timed: None,
                ..
            }
        )
    }

    /// The LIKE pattern of the search, if there is one.
    pub(super) fn pattern(&self) -> Option<&str> {
        match self {
            TextPlan::None => None,
            TextPlan::Index { pattern, .. } | TextPlan::Scan { pattern, .. } => Some(pattern),
        }
    }

    /// A search through the index: the JSON array of its indexed matches, the last event the index holds, and
    /// the LIKE pattern for the rows above it.
    pub(super) fn index_set(&self) -> Option<(&str, i64, &str)> {
        match self {
            TextPlan::Index {
                seqs,
                indexed_through,
                pattern,
                ..
            } => Some((seqs, *indexed_through, pattern)),
            _ => None,
        }
    }
}

/// `%text%` with LIKE's wildcards escaped (`ESCAPE '\'`).
pub(super) fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// `WHERE` for every filter of the query, all bound, combined with AND.
pub(super) fn push_filters(b: &mut impl SqlSink, q: &AuditQuery, resolved: &Resolved) {
    push_structured(b, q, resolved);
    push_text(b, &resolved.text);
}

/// `WHERE` for every filter of the query but its free text.
pub(super) fn push_structured(b: &mut impl SqlSink, q: &AuditQuery, resolved: &Resolved) {
    let Filters {
        q: _,
        actions,
        category,
        // A verb, a view and a range reach the store's plans as actions, a category and `from`
        // (`AuditStore::plain`).
        view,
        verb,
        actor: _,
        // Resolved to its keys (`Resolved::excluded`).
        exclude_actor: _,
        actor_type,
        target_type,
        target_id,
        outcome,
        source,
        // Resolved to the addresses stored in it (`Resolved::ips`).
        ip: _,
        tenant,
        range,
        from,
        to,
    } = q.filters();
    debug_assert!(
        verb.is_none() && *view == LogView::All && range.is_none(),
        "a verb, a view and a range are served as actions, a category and `from`"
    );
    b.sql(" WHERE 1 = 1");
    if !actions.is_empty() {
        b.sql(" AND action IN ").texts(actions);
    }
    if let Some(c) = category {
        b.sql(" AND category = ").text(c.clone());
    }
    // The actor was resolved to its keys (`Resolved::actor`).
    if let Some(a) = &resolved.actor {
        push_actor(b, a);
    }
    if let Some(a) = &resolved.excluded {
        push_excluded(b, a);
    }
    // The outcome and the actor type are written as literals (each is one of a few fixed words), with the
    // condition of their partial index (migration 12), so that SQLite can use that index.
    if let Some(t) = actor_type {
        b.sql(" AND actor_type = '").sql(t.as_str()).sql("'");
        if *t != ActorType::User {
            b.sql(" AND actor_type <> 'user'");
        }
    }
    if let Some(t) = target_type {
        b.sql(" AND target_type = ").text(t.clone());
    }
    if let Some(t) = target_id {
        // The target-id index reaches `target_indexed_through`; rows above it are checked directly.
        b.sql(" AND target_id = ").text(t.clone());
        b.sql(" AND seq IN (SELECT seq FROM target_events WHERE target_id = ")
            .text(t.clone());
        b.sql(" UNION ALL SELECT seq FROM events WHERE seq > ")
            .int(resolved.target_indexed_through);
        b.sql(" AND target_id = ").text(t.clone()).sql(")");
    }
    if let Some(o) = outcome {
        b.sql(" AND outcome = '").sql(o.as_str()).sql("'");
    }
    if let Some(s) = source {
        b.sql(" AND source = ").text(s.clone());
    }
    if let Some(ips) = &resolved.ips {
        push_ips(b, ips);
    }
    if let Some(t) = tenant {
        b.sql(" AND tenant = ").text(t.clone());
    }
    if let Some(f) = from {
        b.sql(" AND ts >= ").int(f.millis);
    }
    if let Some(t) = to {
        b.sql(" AND ts <= ").int(t.millis);
    }
}

/// The most addresses an IP range is read as one by one: in a bound list, through the keyed cube and the
/// free-text index's tags. A range with more (a /8 of a busy public service) is read as one JSON array, which
/// SQLite reads into the same `IN` (a statement takes at most 32,766 bound values), and is not counted per
/// day nor held by the index.
pub(super) const MAX_BOUND_LIST: usize = 500;

/// ` AND ip IN …`: the addresses of an IP range (see `MAX_BOUND_LIST`), on `events` or a keyed cube.
pub(super) fn push_ips(b: &mut impl SqlSink, ips: &[String]) {
    if ips.len() <= MAX_BOUND_LIST {
        b.sql(" AND ip IN ").texts(ips);
    } else {
        let list = serde_json::to_string(ips).unwrap_or_default();
        b.sql(" AND ip IN (SELECT value FROM json_each(").text(list).sql("))");
    }
}

/// The actor's keys (through `events_by_actor`), and its value in the columns when the keys alone are not
/// exact (a renamed user searched by the old name).
fn push_actor(b: &mut impl SqlSink, a: &ActorKeys) {
    if a.whos.is_empty() {
        b.sql(" AND 0");
        return;
    }
    b.sql(" AND ").sql(WHO).sql(" IN ").texts(&a.whos);
    if !a.exact {
        b.sql(" AND (actor_id = ").text(a.value.clone());
        b.sql(" OR actor_email = ").text(a.value.clone());
        b.sql(" OR actor_name = ").text(a.value.clone()).sql(")");
    }
}

/// Every event but the actor's: not of its keys, or (when the keys alone are not exact) not with its value in
/// the columns either.
fn push_excluded(b: &mut impl SqlSink, a: &ActorKeys) {
    if a.whos.is_empty() {
        return;
    }
    if a.exact {
        b.sql(" AND ").sql(WHO).sql(" NOT IN ").texts(&a.whos);
        return;
    }
    b.sql(" AND NOT (").sql(WHO).sql(" IN ").texts(&a.whos);
    b.sql(" AND COALESCE(actor_id = ").text(a.value.clone());
    b.sql(" OR actor_email = ").text(a.value.clone());
    b.sql(" OR actor_name = ").text(a.value.clone()).sql(", 0))");
}

/// `(column LIKE pattern OR …)` over every searched column.
pub(super) fn push_like(b: &mut impl SqlSink, pattern: &str) {
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
        TextPlan::Scan { pattern, .. } => {
            b.sql(" AND ");
            push_like(b, pattern);
        }
        TextPlan::Index {
            seqs,
            indexed_through,
            pattern,
            ..
        } => {
            // One set of row ids (the index's matches, and the matches among rows not yet indexed): an `OR` of
            // the two would make SQLite scan the table.
            b.sql(" AND seq IN (SELECT value FROM json_each(").text(seqs.clone());
            b.sql(")");
            b.sql(" UNION ALL SELECT seq FROM events WHERE seq > ")
                .int(*indexed_through)
                .sql(" AND ");
            push_like(b, pattern);
            b.sql(")");
        }
    }
}

/// Keyset continuation: rows strictly after the cursor in the current order.
pub(super) fn push_after_cursor(b: &mut impl SqlSink, q: &AuditQuery, c: &Cursor) {
    let op = match q.order {
        SortOrder::Desc => " < ",
        SortOrder::Asc => " > ",
    };
    match q.sort {
        SortKey::Timestamp => {
            b.sql(" AND (ts, id)")
                .sql(op)
                .sql("(")
                .int(c.millis)
                .sql(", ")
                .text(c.id.clone())
                .sql(")");
        }
        SortKey::Action => {
            b.sql(" AND (action, ts, id)").sql(op).sql("(").text(c.key.clone());
            b.sql(", ").int(c.millis).sql(", ").text(c.id.clone()).sql(")");
        }
    }
}

/// Sort columns come from the enum, never from the request's text.
pub(super) fn push_order(b: &mut impl SqlSink, q: &AuditQuery) {
    push_order_by(b, q.sort, q.order);
}

pub(super) fn push_order_by(b: &mut impl SqlSink, sort: SortKey, order: SortOrder) {
    let dir = match order {
        SortOrder::Desc => "DESC",
        SortOrder::Asc => "ASC",
    };
    match sort {
        SortKey::Timestamp => b.sql(&format!(" ORDER BY ts {dir}, id {dir}")),
        SortKey::Action => b.sql(&format!(" ORDER BY action {dir}, ts {dir}, id {dir}")),
    };
}
