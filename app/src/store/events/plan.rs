//! The list's planner. `PagePlan` names every way a page can be read; the facts a choice needs are gathered
//! first (`Stats`: the filters resolved against the data, and the counts some choices depend on); then
//! `choose`, a pure function of the query, those facts and the tuning, picks one. The executors are in
//! `read`, `blocks` and `by_action`; `docs/search.md` describes each plan.

use crate::{
    model::{AuditQuery, SortKey, ip::IpRange},
    store::{
        days::counted_per_day,
        error::StoreError,
        filter::{ActorKeys, Resolved, Source, TextPlan},
        fulltext::indexed_total,
        handle::AuditStore,
        tuning::Tuning,
    },
};

/// How a page is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PagePlan {
    /// The first rows in the page's order, or those after a cursor: `ORDER BY … LIMIT page_size`.
    Keyset { source: Source },
    /// Skips the page's offset inside an index-only subquery, then reads the page's rows.
    Offset { source: Source },
    /// Sorted by time, past `Tuning::anchor_min_offset` rows: starts from the day the per-day counts place
    /// the page in, and skips only that day's rows before it (or after it, from the day's other end).
    Anchored { source: Source },
    /// Sorted by action: starts from the action and day the per-day counts by action place the page in, and
    /// reads one action at a time through whichever index holds fewer rows to walk.
    AnchoredByAction,
    /// A page near the end of a search counted exactly (`total`): the `rows` from its first to the last,
    /// read as the first rows of the opposite order (`reversed`), then turned around.
    FromEnd {
        total: u64,
        rows: u32,
        reversed: Box<PagePlan>,
    },
    /// A term common among the filter's rows: walks them in the page's order testing the text, for at most
    /// `budget` rows (the index's matches); `otherwise` when the walk finds too few.
    TextWalk {
        source: Source,
        budget: i64,
        otherwise: Box<PagePlan>,
    },
    /// A search's set of at most 10,000 matches, read a block of row ids at a time, newest first, until the
    /// page is known.
    TextSet,
    /// A deep page of a search with more than 10,000 matches: counts them by blocks through the index, skips
    /// whole segments and reads only the page's; `otherwise` when the page's segment spans too many blocks.
    TextBlocks { otherwise: Box<PagePlan> },
    /// A search sorted by action: one action at a time, each counted through the index, the page's own read
    /// block by block; a first page of text alone first walks the action index (`walk_first`).
    TextByAction { walk_first: bool },
}

/// The facts a plan is chosen by, read before choosing.
#[derive(Clone, Debug, Default)]
pub(super) struct Stats {
    /// The total of a search counted exactly (`count=exact`) through the index.
    pub exact_total: Option<u64>,
    /// How many rows the query's filters besides its text match: for a walk testing the text.
    pub structured: Option<u64>,
    /// How many rows the query matches (seen before, or counted): for the index a sort by action walks.
    pub matching: Option<u64>,
    /// How many events the log holds, when `structured` is compared with it (`by_time`).
    pub all: Option<u64>,
}

/// How many rows lie from `q`'s page to the end of `total`, when the page is within
/// `Tuning::from_end_pages` pages of the end (those rows are read too) and nearer to it than to the start.
fn rows_to_the_end(q: &AuditQuery, total: u64, t: &Tuning) -> Option<u32> {
    let (offset, size) = (q.offset(), u64::from(q.page_size));
    let after = total.saturating_sub(offset);
    if q.cursor.is_some() || after == 0 || after >= offset || after > t.from_end_pages * size {
        return None;
    }
    u32::try_from(after).ok()
}

/// The query whose first `rows` rows are the last `rows` of `q`'s results, in the opposite order.
pub(super) fn reversed_query(q: &AuditQuery, rows: u32) -> AuditQuery {
    AuditQuery {
        order: q.order.flipped(),
        page: 1,
        page_size: rows,
        exact_count: false,
        ..q.clone()
    }
}

/// The plan for `q`, from what was gathered (`AuditStore::gather`). Reads nothing.
pub(super) fn choose(q: &AuditQuery, r: &Resolved, s: &Stats, t: &Tuning) -> PagePlan {
    if let Some(total) = s.exact_total
        && let Some(rows) = rows_to_the_end(q, total, t)
    {
        let without_total = Stats {
            exact_total: None,
            ..s.clone()
        };
        let reversed = Box::new(choose(&reversed_query(q, rows), r, &without_total, t));
        return PagePlan::FromEnd { total, rows, reversed };
    }
    let plan = text_plan(q, r, t).unwrap_or_else(|| structured_plan(q, r, s, t));
    match text_walk(q, r, s, t) {
        Some((source, budget)) => PagePlan::TextWalk {
            source,
            budget,
            otherwise: Box::new(plan),
        },
        None => plan,
    }
}

/// A walk of the filter's rows testing the text, when the search's matches are common enough among them that
/// the walk is expected to fill the page reading at most `1 / walk_share` of the rows the index names: its
/// source and budget.
fn text_walk(q: &AuditQuery, r: &Resolved, s: &Stats, t: &Tuning) -> Option<(Source, i64)> {
    if !walkable(q, r) {
        return None;
    }
    let (matches, _) = r.text.exact_matches()?;
    let filtered = s.structured?;
    let wanted = q.offset() + u64::from(q.page_size);
    let expected = wanted.saturating_mul(filtered) / matches;
    if expected.saturating_mul(t.walk_share) > matches {
        return None;
    }
    let structured = AuditQuery { q: None, ..q.clone() };
    let source = source_in_order(&structured, &r.without_text(), Some(filtered), t);
    Some((source, matches as i64))
}

/// True when a walk testing the text could serve `q`: a search through the index that holds all of its
/// filters, with matches, without a cursor, and not sorted by action next to another filter (the walk would
/// read the action index, where the filter's rows may all lie in the last actions: every event before them
/// is read; `q=zoe&outcome=failure&sort=action`, failures only in two actions: 1.6 s at 1M).
fn walkable(q: &AuditQuery, r: &Resolved) -> bool {
    let by_action_next_to_filters = q.sort == SortKey::Action && q.has_filters_besides_text();
    r.text.exact_matches().is_some_and(|(n, _)| n > 0) && q.cursor.is_none() && !by_action_next_to_filters
}

/// The plans of a search through the index, when one applies.
fn text_plan(q: &AuditQuery, r: &Resolved, t: &Tuning) -> Option<PagePlan> {
    if q.cursor.is_some() {
        return None;
    }
    let filters = q.has_filters_besides_text();
    match q.sort {
        SortKey::Action => {
            r.text.exact_query()?;
            // A small set is read and sorted whole, which costs less than asking the index about each action;
            // so is any set of free text alone.
            if let TextPlan::Index { matches, .. } = r.text
                && (matches <= t.small_set || !filters)
            {
                return None;
            }
            let wanted = q.offset() + u64::from(q.page_size);
            let walk_first = !filters && wanted as i64 * 10 <= t.action_walk_rows;
            Some(PagePlan::TextByAction { walk_first })
        }
        SortKey::Timestamp => {
            let deep = t
                .anchor_min_offset
                .is_some_and(|min| q.offset() > min.max(t.deep_text_min_offset));
            if r.text.indexed_query().is_some() && deep {
                let otherwise = Box::new(structured_plan(q, r, &Stats::default(), t));
                return Some(PagePlan::TextBlocks { otherwise });
            }
            r.text.index_set().map(|_| PagePlan::TextSet)
        }
    }
}

/// The plans that read the filters' rows through the table's indexes: keyset, offset or anchored.
fn structured_plan(q: &AuditQuery, r: &Resolved, s: &Stats, t: &Tuning) -> PagePlan {
    let source = match by_time(q, r, s, t) {
        true => Source::ByTime,
        false => source_in_order(q, r, s.matching, t),
    };
    if q.cursor.is_some() || (q.page == 1 && q.sort == SortKey::Timestamp) {
        return PagePlan::Keyset { source };
    }
    if anchored(q, r, t) {
        return match q.sort {
            SortKey::Action => PagePlan::AnchoredByAction,
            SortKey::Timestamp => PagePlan::Anchored { source },
        };
    }
    PagePlan::Offset { source }
}

/// True when a search read with LIKE, sorted by time, walks the time index (see `Tuning::time_walk_share`): its
/// other filters match at least that share of the log.
fn by_time(q: &AuditQuery, r: &Resolved, s: &Stats, t: &Tuning) -> bool {
    time_walk_candidate(q, r)
        && s.structured
            .zip(s.all)
            .is_some_and(|(n, all)| n.saturating_mul(t.time_walk_share) >= all)
}

/// True when `by_time` may choose the time index for `q`: a LIKE search sorted by time, next to other filters
/// (without them SQLite walks the time index itself) but not a target id (it has its own index).
fn time_walk_candidate(q: &AuditQuery, r: &Resolved) -> bool {
    q.sort == SortKey::Timestamp
        && matches!(r.text, TextPlan::Scan { .. })
        && q.has_filters_besides_text()
        && q.target_id.is_none()
}

/// True when a page without a cursor starts from the per-day counts: they hold its filters, and it skips
/// more than `Tuning::anchor_min_offset` rows, or it is sorted by action (the walk then skips the actions
/// and days without matches).
fn anchored(q: &AuditQuery, r: &Resolved, t: &Tuning) -> bool {
    let far = t
        .anchor_min_offset
        .is_some_and(|min| q.offset() > min || q.sort == SortKey::Action);
    far && counted_per_day(q, r)
}

/// The events table as a walk in `q`'s order reads it. Sorted by action, with more than
/// `Tuning::sort_by_index_rows` matching rows, through the action index, which holds that order: left to
/// itself SQLite may take a filter's index and sort every matching row (seconds for an actor with a million
/// events). With few, SQLite chooses. Free text and a target id take their rows from their own indexes.
pub(super) fn source_in_order(q: &AuditQuery, r: &Resolved, matching: Option<u64>, t: &Tuning) -> Source {
    if q.sort != SortKey::Action || q.q.is_some() || q.target_id.is_some() {
        return r.table(q);
    }
    match matching {
        Some(n) if n > t.sort_by_index_rows => Source::by_action(q),
        _ => Source::Table,
    }
}

/// True when choosing `q`'s source needs its count (see `source_in_order`).
fn needs_matching(q: &AuditQuery) -> bool {
    q.sort == SortKey::Action && q.q.is_none() && q.target_id.is_none()
}

impl AuditStore {
    /// The plan that reads `q`'s page (what `list` would do, without doing it).
    pub async fn explain(&self, q: &AuditQuery) -> Result<PagePlan, StoreError> {
        let _gate = self.purge_gate.read().await;
        let q = &*self.plain(q).await?;
        let (resolved, stats) = self.gather(q).await?;
        Ok(choose(q, &resolved, &stats, &self.tuning))
    }

    /// `q`'s filters resolved against the data, and the counts its plan may be chosen by: only those that
    /// can matter for this query, each remembered once counted.
    pub(super) async fn gather(&self, q: &AuditQuery) -> Result<(Resolved, Stats), StoreError> {
        let resolved = self.resolve(q).await?;
        let exact_total = match q.q.is_some() && q.exact_count {
            true => indexed_total(self, q, &resolved, i64::MAX).await?,
            false => None,
        };
        let structured = match walkable(q, &resolved) || time_walk_candidate(q, &resolved) {
            true => {
                let structured = AuditQuery { q: None, ..q.clone() };
                Some(self.count_with(&structured, &resolved.without_text()).await?)
            }
            false => None,
        };
        let by_action_anchor = q.cursor.is_none() && anchored(q, &resolved, &self.tuning);
        let matching = match needs_matching(q) && !by_action_anchor {
            true => Some(self.matching(q, &resolved).await?),
            false => None,
        };
        let all = match time_walk_candidate(q, &resolved) {
            true => Some(self.count_with(&AuditQuery::default(), &Resolved::default()).await?),
            false => None,
        };
        let stats = Stats {
            exact_total,
            structured,
            matching,
            all,
        };
        Ok((resolved, stats))
    }

    /// The source a walk of every row of `q` in its order reads (an export, a cursor page).
    pub(in crate::store) async fn source_for_walk(
        &self,
        q: &AuditQuery,
        resolved: &Resolved,
    ) -> Result<Source, StoreError> {
        let matching = match needs_matching(q) {
            true => Some(self.matching(q, resolved).await?),
            false => None,
        };
        Ok(source_in_order(q, resolved, matching, &self.tuning))
    }

    /// How many rows `q` matches: a total seen before is enough to choose an index by (it only grows); the
    /// first time, it is counted.
    async fn matching(&self, q: &AuditQuery, resolved: &Resolved) -> Result<u64, StoreError> {
        match self.counts.get(&super::count::count_key(q)) {
            Some((n, _)) => Ok(n),
            None => self.count_with(q, resolved).await,
        }
    }

    /// What a query's filters need decided against the data before its SQL is written.
    pub(in crate::store) async fn resolve(&self, q: &AuditQuery) -> Result<Resolved, StoreError> {
        let target_indexed_through = match q.target_id {
            Some(_) => {
                sqlx::query_scalar("SELECT indexed_through FROM fts_progress WHERE id = 1")
                    .fetch_one(&self.read)
                    .await?
            }
            None => 0,
        };
        let actor = match &q.actor {
            Some(actor) => Some(self.actor_keys(actor).await?),
            None => None,
        };
        let excluded = match &q.exclude_actor {
            Some(actor) => Some(self.actor_keys(actor).await?),
            None => None,
        };
        let ips = match &q.ip {
            Some(range) => Some(self.addresses_in(range).await?),
            None => None,
        };
        let text = self
            .text_plan(q, actor.as_ref().map(|a| (a.whos.as_slice(), a.exact)), ips.as_deref())
            .await?;
        Ok(Resolved {
            actor,
            excluded,
            target_indexed_through,
            ips,
            text,
        })
    }

    /// An actor filter (or exclusion) matches id, email or name. Events are indexed by one key per actor, `who` (see
    /// migration 8); the small `actors` table says which keys have the value in one of their parts, and
    /// whether every event of those keys has it (then the key alone is the filter).
    async fn actor_keys(&self, actor: &str) -> Result<ActorKeys, StoreError> {
        let keys: Vec<(String, bool)> = sqlx::query_as(
            "SELECT who, MIN(actor_id = ?1 OR actor_email = ?1 OR actor_name = ?1) FROM actors WHERE who IN \
             (SELECT who FROM actors WHERE actor_id = ?1 UNION SELECT who FROM actors WHERE actor_email = ?1 \
              UNION SELECT who FROM actors WHERE actor_name = ?1) \
             GROUP BY who ORDER BY who",
        )
        .bind(actor)
        .fetch_all(&self.read)
        .await?;
        Ok(ActorKeys {
            value: actor.to_string(),
            exact: keys.iter().all(|(_, all)| *all),
            whos: keys.into_iter().map(|(who, _)| who).collect(),
        })
    }

    /// The stored addresses in `range`, sorted: from the addresses counted in `value_counts` (migration 22),
    /// each tested against the range. The list is as long as the log has distinct addresses (reading and
    /// testing 100,000 takes a few ms).
    async fn addresses_in(&self, range: &IpRange) -> Result<Vec<String>, StoreError> {
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT value FROM value_counts WHERE col = 'ip' AND n > 0 ORDER BY value")
                .fetch_all(&self.read)
                .await?;
        Ok(stored.into_iter().filter(|ip| range.contains_text(ip)).collect())
    }
}
