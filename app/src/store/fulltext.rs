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
//! as soon as the page is full, which is fast precisely because matches are dense.

use std::sync::Arc;

use super::{
    AuditStore, StoreError,
    events::push_structured,
    sql::{SqlSink, json_rows},
};
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

/// The values the index holds as tags: the tag's name (its FTS5 column is `t_<name>`, its values in
/// `fts_tags.col`) and the SQL of its value on `events`. A tag's marker character is U+E000 plus its place
/// here (migration 13).
const TAGS: [(&str, &str); 7] = [
    ("action", "events.action"),
    ("category", "events.category"),
    ("outcome", "events.outcome"),
    ("actor_type", "events.actor_type"),
    ("target_type", "events.target_type"),
    ("source", "events.source"),
    (
        "who",
        "COALESCE(events.actor_email, events.actor_id, events.actor_name)",
    ),
];

/// A tag's three characters (migration 13): its column's marker, `MARKER + place in TAGS`; then the value's id
/// in `fts_tags`, as `HIGH + id / 65536` and `LOW + id % 65536`. All private-use code points.
const MARKER: u32 = 0xE000;
const HIGH: u32 = 0xF_0000;
const LOW: u32 = 0x10_0000;

/// The tag of the value with id `id` in `fts_tags`, for the tag at `place` in `TAGS`: one trigram.
fn tag_token(place: usize, id: i64) -> String {
    let id = id as u32;
    [MARKER + place as u32, HIGH + (id >> 16), LOW + (id & 0xFFFF)]
        .into_iter()
        .filter_map(char::from_u32)
        .collect()
}

/// A tag no event has: a value that is not in `fts_tags` (no indexed event has it).
fn absent_tag(place: usize) -> String {
    [MARKER + place as u32, 0xE0FF, 0xE0FF]
        .into_iter()
        .filter_map(char::from_u32)
        .collect()
}

/// The first `limit` events above `from`: the last one's seq and how many there are (`None` when there are none).
fn next_range(tx: &rusqlite::Transaction, from: i64, limit: i64) -> rusqlite::Result<Option<(i64, u64)>> {
    let (through, n): (Option<i64>, i64) = tx.query_row(
        "SELECT MAX(seq), COUNT(*) FROM (SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
        [from, limit],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(through.map(|t| (t, n as u64)))
}

/// One indexing step on the writer's connection: the next `limit` events above each progress mark, into the
/// free-text index (from `text_through`) and the target-id index (from `indexed_through`). The two marks are
/// equal except while the free-text index is rebuilt. Returns how many events the step covered.
pub(super) fn index_batch(conn: &mut rusqlite::Connection, limit: i64) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (targets_from, text_from): (i64, i64) = tx.query_row(
        "SELECT indexed_through, text_through FROM fts_progress WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut covered = 0;
    if let Some((through, n)) = next_range(&tx, text_from, limit)? {
        let range = "FROM events WHERE seq > ?1 AND seq <= ?2";
        let values: Vec<String> = TAGS
            .iter()
            .map(|(name, value)| format!("SELECT '{name}', {value} {range} AND {value} IS NOT NULL"))
            .collect();
        tx.execute(
            &format!("INSERT OR IGNORE INTO fts_tags (col, value) {}", values.join(" UNION ")),
            [text_from, through],
        )?;
        let columns: Vec<String> = TAGS.iter().map(|(name, _)| format!("t_{name}")).collect();
        let tags: Vec<String> = TAGS
            .iter()
            .enumerate()
            .map(|(place, (name, value))| {
                format!(
                    "(SELECT char({}, {HIGH} + (id >> 16), {LOW} + (id & 65535)) FROM fts_tags \
                     WHERE col = '{name}' AND value = {value})",
                    MARKER + place as u32,
                )
            })
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO events_fts (rowid, body, {}) SELECT seq, concat_ws(char(10), {}), {} {range}",
                columns.join(", "),
                SEARCHED.join(", "),
                tags.join(", ")
            ),
            [text_from, through],
        )?;
        tx.execute("UPDATE fts_progress SET text_through = ?1 WHERE id = 1", [through])?;
        covered = n;
    }
    if let Some((through, n)) = next_range(&tx, targets_from, limit)? {
        // The target-id index (migration 8), its batch sorted so that the inserts walk the b-tree once in order.
        tx.execute(
            "INSERT INTO target_events (target_id, seq) SELECT target_id, seq FROM events \
             WHERE seq > ?1 AND seq <= ?2 AND target_id IS NOT NULL ORDER BY target_id, seq",
            [targets_from, through],
        )?;
        tx.execute("UPDATE fts_progress SET indexed_through = ?1 WHERE id = 1", [through])?;
        covered = covered.max(n);
    }
    tx.commit()?;
    Ok(covered)
}

/// Plans with at most this many indexed matches read their rows through the index. Above it, the total of a
/// search is shown as a lower bound anyway ("10,000+"), so there is no need to count further.
const INDEX_PLAN_MAX: i64 = crate::model::query::TEXT_COUNT_CAP as i64;

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
        /// How many indexed rows the FTS5 query matches (all of them: at most `INDEX_PLAN_MAX`), read in the
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
        /// plan was chosen because that query matches more than `INDEX_PLAN_MAX` indexed rows.
        indexed: Option<(String, i64)>,
        /// The same when the index holds every filter but `from`/`to`, which it does not hold: the query's
        /// count is then read block by block (`AuditStore::count_by_blocks`).
        timed: Option<(String, i64)>,
    },
}

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

    /// A search that walks the table although the index holds all of its filters: the FTS5 query, the last
    /// event the index holds, and the LIKE pattern for the rows above it.
    pub(super) fn indexed_query(&self) -> Option<(&str, i64, &str)> {
        match self {
            TextPlan::Scan {
                pattern,
                indexed: Some((expr, through)),
                ..
            } => Some((expr, *through, pattern)),
            _ => None,
        }
    }

    /// A search that walks the table, with a time range, although the index holds all of its other filters:
    /// the FTS5 query, the last event the index holds, and the LIKE pattern.
    pub(super) fn timed_query(&self) -> Option<(&str, i64, &str)> {
        match self {
            TextPlan::Scan {
                pattern,
                timed: Some((expr, through)),
                ..
            } => Some((expr, *through, pattern)),
            _ => None,
        }
    }

    /// A search through the index that holds all of its filters, whichever its plan: the FTS5 query, the last
    /// event the index holds, and the LIKE pattern for the rows above it.
    pub(super) fn exact_query(&self) -> Option<(&str, i64, &str)> {
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

fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 phrase that matches the text as a substring (trigram tokenizer).
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 condition that the searched text holds `text` as a substring: the first part of every search's
/// FTS5 query.
fn body_phrase(text: &str) -> String {
    format!("{{body}} : {}", phrase(text))
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

    /// Chooses the plan for a query's free text, given the `who` keys its actor filter resolved to (and
    /// whether they alone select the actor's events).
    pub(super) async fn text_plan(
        &self,
        q: &AuditQuery,
        actor: Option<(&[String], bool)>,
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
        let (expr, exact, exact_but_time) = match_expression(&mut tx, text, q, actor).await?;
        let indexed_through: i64 = sqlx::query_scalar("SELECT text_through FROM fts_progress WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        // A query once seen to match more than `INDEX_PLAN_MAX` indexed rows still does (rows never leave the
        // index): auto-refresh, the next page and a change of sort skip the count (45 ms at 1M for a phrase of
        // common trigrams next to a tag, `q=newsletter&category=backup`).
        let known = self.counts.get(&at_least_key(&expr));
        let (matches, seqs) = match known {
            Some((n, _)) if n as i64 > INDEX_PLAN_MAX => (n as i64, String::new()),
            _ => {
                let set = self.match_set(&mut tx, (&expr, text), indexed_through).await?;
                (set.len() as i64, serde_json::to_string(&*set).unwrap_or_default())
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
    let tag = tag_condition(&mut conn, 0, &[action.to_string()]).await?;
    Ok(format!("{expr} AND {tag}"))
}

/// Below this many rows indexed since a remembered count, the count grows by testing those rows with LIKE
/// (about 1.4 µs a row) instead of asking the index: FTS5 finds an AND query's first match from the start of
/// its lists whatever the range of row ids, so a query without matches costs a walk through the whole index
/// (about 60 ms at 10M events) however few rows are new.
const LIKE_DELTA_ROWS: i64 = 20_000;

/// How many events the FTS5 query `expr` matches among those the index held at `through`, counting no further
/// than `cap`. A count under `cap` is exact and is remembered with `through` (in the store's count cache), so
/// that the next request counts only the rows indexed since: a page sorted by action asks this of every
/// action before its own, and auto-refresh asks again every ten seconds. A count that reached `cap` is
/// remembered as a lower bound (rows are never removed from the index). `like` is the same search as a query
/// and its LIKE pattern (`expr` holds every filter of the query), for counting a few new rows directly.
pub(super) async fn count_indexed(
    store: &AuditStore,
    expr: &str,
    through: i64,
    cap: i64,
    (q, resolved, pattern): (&AuditQuery, &super::events::Resolved, &str),
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
    } else if from > 0 && through - from <= LIKE_DELTA_ROWS {
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
pub(super) async fn fts_count(
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

/// The trigrams of `text` sampled for the rarest (`proven_empty`), at most.
const PROBE_TRIGRAMS: usize = 8;

/// The latest indexed rows among which each trigram's share is estimated to find the rarest: from how far its
/// first `PROBE_MATCHES` matches there reach (0.3 ms; counting them all took 2.4 ms a common trigram).
const PROBE_SAMPLE_ROWS: i64 = 65_536;
const PROBE_MATCHES: i64 = 64;

/// True when the FTS5 query `expr`, whose first part is the phrase of `text` and whose other parts are tags,
/// has no match among the rows the index held at `through`, as shown by a cheaper query that matches more:
/// the text's rarest trigram instead of its phrase. One list without positions is much cheaper to walk
/// than several with: a phrase next to a tag that never meet (`q=mailbox&category=auth`) took 6.6 s at 10M
/// events, its rarest trigram 185 ms. False when that query matches (then the query is asked as it is), and
/// for a text of three characters (its phrase is one trigram) or a query without tags.
async fn proven_empty(
    store: &AuditStore,
    conn: &mut sqlx::SqliteConnection,
    (expr, text): (&str, &str),
    through: i64,
) -> Result<bool, StoreError> {
    let head = body_phrase(text);
    let chars: Vec<char> = text.chars().collect();
    let Some(tags) = expr.strip_prefix(&head).filter(|t| !t.is_empty()) else {
        return Ok(false);
    };
    if chars.len() <= 3 {
        return Ok(false);
    }
    // The rarest trigram among the latest rows, remembered per text (by its place).
    let key = format!("rarest\u{0}{text}");
    let place = match store.counts.get(&key) {
        Some((place, _)) => place as usize,
        None => {
            // Each trigram's share of the latest rows, from how far its first few matches there reach.
            let after = (through - PROBE_SAMPLE_ROWS).max(0);
            let mut rarest = (f64::INFINITY, 0);
            for (place, window) in chars.windows(3).take(PROBE_TRIGRAMS).enumerate() {
                let (n, last): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MAX(rowid) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ? \
                     AND rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?)",
                )
                .bind(body_phrase(&window.iter().collect::<String>()))
                .bind(after)
                .bind(through)
                .bind(PROBE_MATCHES)
                .fetch_one(&mut *conn)
                .await?;
                let reach = match last {
                    Some(last) if n == PROBE_MATCHES => last - after,
                    _ => through - after,
                };
                let share = n as f64 / reach.max(1) as f64;
                if share < rarest.0 {
                    rarest = (share, place);
                }
            }
            store.counts.put(key, rarest.1 as u64, through);
            rarest.1
        }
    };
    let trigram: String = chars[place..place + 3].iter().collect();
    let probe = format!("{}{tags}", body_phrase(&trigram));
    let any: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events_fts WHERE events_fts MATCH ? AND rowid <= ?)")
            .bind(probe)
            .bind(through)
            .fetch_one(&mut *conn)
            .await?;
    Ok(!any)
}

/// Remembers, for each action of `actions` (with its FTS5 query: a search's, with the action's tag), how many
/// of the search's indexed matches (`seqs`, a JSON array, exact through the index's mark `through`) are its
/// events, as `count_indexed` would count them: one read of the set's rows (about 10,000 at most) instead of
/// an FTS5 query per action, where an action without matches costs a walk through two lists
/// (`q=nightly-12&outcome=success&sort=action`: 1.3–2.2 s at 10M the first time). Nothing is read when every
/// count is known through `through`.
pub(super) async fn count_set_by_action(
    store: &AuditStore,
    seqs: &str,
    through: i64,
    actions: &[(String, String)],
) -> Result<(), StoreError> {
    let known = |expr: &str| matches!(store.counts.get(&exact_key(expr)), Some((_, t)) if t == through);
    if actions.iter().all(|(_, expr)| known(expr)) {
        return Ok(());
    }
    let counted: std::collections::HashMap<String, i64> = sqlx::query_as(
        "SELECT action, COUNT(*) FROM events WHERE seq IN (SELECT value FROM json_each(?)) GROUP BY action",
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
    Ok(())
}

/// The count cache's key for the exact count of the FTS5 query `expr`'s indexed matches.
fn exact_key(expr: &str) -> String {
    format!("fts\u{0}{expr}")
}

/// The count cache's key for a lower bound of the FTS5 query `expr`'s indexed matches.
fn at_least_key(expr: &str) -> String {
    format!("fts>=\u{0}{expr}")
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

/// The FTS5 condition that an event's tag at `place` in `TAGS` is one of `values` (a value no indexed event
/// has is a tag no event has).
async fn tag_condition(
    conn: &mut sqlx::SqliteConnection,
    place: usize,
    values: &[String],
) -> Result<String, StoreError> {
    let name = TAGS[place].0;
    let mut tokens = Vec::with_capacity(values.len().max(1));
    for value in values {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM fts_tags WHERE col = ? AND value = ?")
            .bind(name)
            .bind(value)
            .fetch_optional(&mut *conn)
            .await?;
        tokens.push(id.map_or_else(|| absent_tag(place), |id| tag_token(place, id)));
    }
    if tokens.is_empty() {
        // An actor no event has: no key.
        tokens.push(absent_tag(place));
    }
    let any: Vec<String> = tokens.iter().map(|t| format!("{{t_{name}}} : {}", phrase(t))).collect();
    Ok(format!("({})", any.join(" OR ")))
}

/// The FTS5 query for the text and the query's filters that the index holds as tags, whether those are all of
/// its filters (then the query's matches among indexed rows are exactly the FTS5 query's), and whether they
/// are all but `from`/`to`.
async fn match_expression(
    conn: &mut sqlx::SqliteConnection,
    text: &str,
    q: &AuditQuery,
    actor: Option<(&[String], bool)>,
) -> Result<(String, bool, bool), StoreError> {
    let mut parts = vec![body_phrase(text)];
    let mut exact_but_time = q.target_id.is_none();
    let mut filters: Vec<(usize, Vec<String>)> = Vec::new();
    if !q.actions.is_empty() {
        filters.push((0, q.actions.clone()));
    }
    let tagged = [
        (1, q.category.clone()),
        (2, q.outcome.map(|o| o.as_str().to_string())),
        (3, q.actor_type.map(|t| t.as_str().to_string())),
        (4, q.target_type.clone()),
        (5, q.source.clone()),
    ];
    for (place, value) in tagged {
        if let Some(value) = value {
            filters.push((place, vec![value]));
        }
    }
    if let Some((whos, all)) = actor {
        filters.push((6, whos.to_vec()));
        exact_but_time &= all;
    }
    for (place, values) in filters {
        parts.push(tag_condition(conn, place, &values).await?);
    }
    let exact = exact_but_time && q.from.is_none() && q.to.is_none();
    Ok((parts.join(" AND "), exact, exact_but_time))
}

/// The count of a search through the index, when the index holds every filter of the query: the indexed
/// matches (counted by the plan, or, when there are more than `INDEX_PLAN_MAX`, now, unless `cap` is below
/// that), plus the matching rows the indexer has not reached, at most `cap` of those. A count above `cap` is
/// only a lower bound. `None` for other searches.
pub(super) async fn indexed_total(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &super::events::Resolved,
    cap: i64,
) -> Result<Option<u64>, StoreError> {
    let (indexed, through, pattern) = match resolved.text() {
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
pub(super) async fn unindexed_count(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &super::events::Resolved,
    through: i64,
    pattern: &str,
    cap: i64,
) -> Result<i64, StoreError> {
    like_count(store, q, resolved, (through, None), pattern, cap).await
}

/// How many events in the range of row ids `(after, upto]` (no upper end: `None`) match the query's filters
/// and its LIKE `pattern`, counting no further than `cap`.
pub(super) async fn like_count(
    store: &AuditStore,
    q: &AuditQuery,
    resolved: &super::events::Resolved,
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
