//! Events: insert (idempotent, all or nothing), list (filtered, sorted, paged), get, facets, export stream.

use serde_json::{Map, Value};
use sqlx::{QueryBuilder, Row, SqliteConnection, sqlite::SqliteRow};
use ulid::Generator;

use super::{
    AuditStore, StoreError,
    days::{self, Split},
    fulltext::{self, TextPlan, indexed_total, push_like, push_text},
    now_millis,
    sql::{SqlSink, json_rows},
    writer::{DAY_MS, SEQ_BLOCK_SHIFT},
};
use crate::model::{
    Actor, ActorType, AuditQuery, Event, EventPage, EventRow, Facets, NewEvent, Outcome, SortKey, SortOrder, Target,
    ValidEvent,
    event::category_of,
    ip,
    page::{ActionCount, ActorFacet, CategoryFacet},
    query::{Cursor, TEXT_COUNT_CAP},
    time,
};

/// What an insert did: how many rows are new, how many ids were already stored, and every id in input order.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct InsertOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub ids: Vec<String>,
}

const ROW_COLUMNS: &str = "id, ts, action, outcome, actor_type, actor_id, actor_name, actor_email, \
    target_type, target_id, target_name, source, ip, summary";
pub(super) const FULL_COLUMNS: &str = "id, ts, received_at, action, outcome, actor_type, actor_id, actor_name, actor_email, \
    target_type, target_id, target_name, source, ip, user_agent, details";

impl AuditStore {
    /// Validates and stores one event: the recorder a host app calls. Errors name the field (`actor.type`).
    pub async fn record(&self, event: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.insert_valid(vec![event.validate()?]).await
    }

    /// Validates every event, then stores them all in one transaction, or none when one is invalid.
    /// The error's field names the index: `events[3].actor.type`.
    pub async fn record_batch(&self, events: Vec<NewEvent>) -> Result<InsertOutcome, StoreError> {
        let valid = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.validate().map_err(|err| err.under(&format!("events[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        self.insert_valid(valid).await
    }

    /// Stores validated events in one transaction. An id that is already stored (or repeated in the batch)
    /// is counted as a duplicate and not stored again. Returns only after the commit.
    pub async fn insert_valid(&self, events: Vec<ValidEvent>) -> Result<InsertOutcome, StoreError> {
        let received = now_millis();
        let rows = with_ids(events);
        let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        let accepted = self.writer.insert(rows, received).await?;
        let total = ids.len() as u64;
        Ok(InsertOutcome {
            accepted,
            duplicates: total - accepted,
            ids,
        })
    }

    /// One page of rows. With a cursor, the page continues after it (keyset); otherwise `page` counts from 1.
    pub async fn list(&self, q: &AuditQuery) -> Result<EventPage, StoreError> {
        let resolved = &self.resolve(q).await?;
        // A search counted exactly through the index is counted once: for where its page is read from, and for
        // the total.
        let exact_total = match q.q.is_some() && q.exact_count {
            true => indexed_total(self, q, resolved, i64::MAX).await?,
            false => None,
        };
        if let Some(total) = exact_total
            && let Some(page) = self.page_from_the_end(q, total).await?
        {
            return Ok(page);
        }
        // The total, when the histogram that placed a deep page already gave it (in the page's snapshot).
        let mut counted = None;
        let mut rows = if let Some(rows) = self.walked_page(q, resolved).await? {
            rows
        } else if let Some(rows) = self.text_page_by_action(q, resolved).await? {
            rows
        } else if let Some(rows) = self.deep_text_page_by_blocks(q, resolved).await? {
            rows
        } else if let Some(rows) = self.set_page_by_blocks(q, resolved).await? {
            rows
        } else if q.cursor.is_none() && (q.page > 1 || q.sort == SortKey::Action) {
            // A deep page skips its offset inside a subquery that reads only the index it walks (row ids
            // come with every index), then reads the table for just the rows of the page. Past a few pages,
            // the per-day counts say which day the page starts in, so that only that day's rows are skipped;
            // both reads share one snapshot. Sorted by action, every page starts from its action and day:
            // the walk then skips the actions and days without matches.
            // Decided before the transaction, which holds a read connection: deciding may count on another.
            let source = self.events_in_order(q, resolved).await?;
            let mut tx = self.read.begin().await?;
            let offset = q.offset();
            let anchor = match self.anchor_min_offset {
                Some(min) if offset > min || q.sort == SortKey::Action => {
                    self.anchor(&mut tx, q, resolved, offset).await?
                }
                _ => None,
            };
            if let Some(Anchor::At { matching, .. }) = anchor {
                counted = Some(matching);
            }
            let rows = match anchor {
                Some(Anchor::At {
                    action: Some(action),
                    then,
                    day,
                    offset,
                    matching,
                }) => {
                    // Sorted by action: one action at a time, each walked through the action index by
                    // equality (an `IN` of actions next to a range would let SQLite walk actions without
                    // matches): the first from the anchor on, then the next ones with matches from their
                    // start, until the page is full.
                    let page_size = q.page_size as usize;
                    let mut rows: PageRows = Vec::with_capacity(page_size);
                    let mut skip = offset;
                    for (i, action) in std::iter::once(action).chain(then).enumerate() {
                        // With the action fixed, any `(column, ts, id)` index gives the order. SQLite cannot
                        // tell which walk finds the matches soonest: the action's own index when the action
                        // has fewer events than the filter matches, otherwise the filter's.
                        let action_events: Option<i64> =
                            sqlx::query_scalar("SELECT n FROM value_counts WHERE col = 'action' AND value = ?")
                                .bind(&action)
                                .fetch_optional(&mut *tx)
                                .await?;
                        let source = if action_events.unwrap_or(0) as u64 <= matching {
                            "events INDEXED BY events_by_action"
                        } else {
                            "events"
                        };
                        // The walk reads the table's rows for the filters the action index does not hold, so the
                        // page's columns come from the same read.
                        let mut part = rows_query(source);
                        push_filters(&mut part, q, resolved);
                        part.push(" AND action = ").push_bind(action);
                        let limit = (page_size - rows.len()) as u64;
                        if i == 0 {
                            push_from_day(&mut part, q, day, skip, limit);
                        } else {
                            push_order(&mut part, q);
                            part.push(" LIMIT ").push_bind(limit as i64);
                        }
                        rows.extend(fetch_rows(part, &mut *tx).await?);
                        skip = 0;
                        if rows.len() >= page_size {
                            break;
                        }
                    }
                    rows
                }
                anchor => {
                    let mut b = rows_query("events WHERE seq IN (SELECT seq FROM ");
                    b.push(source);
                    push_filters(&mut b, q, resolved);
                    let limit = u64::from(q.page_size);
                    if let Some(Anchor::At { day, offset: rest, .. }) = anchor {
                        push_from_day(&mut b, q, day, rest, limit);
                    } else {
                        if anchor == Some(Anchor::PastTheEnd) {
                            b.push(" AND 0");
                        }
                        push_order(&mut b, q);
                        b.push(" LIMIT ").push_bind(limit as i64);
                        b.push(" OFFSET ").push_bind(offset as i64);
                    }
                    b.push(")");
                    fetch_rows(b, &mut *tx).await?
                }
            };
            tx.commit().await?;
            rows
        } else {
            let source = self.events_in_order(q, resolved).await?;
            let mut b = rows_query(source);
            push_filters(&mut b, q, resolved);
            if let Some(c) = &q.cursor {
                push_after_cursor(&mut b, q, c);
            }
            push_order(&mut b, q);
            b.push(" LIMIT ").push_bind(i64::from(q.page_size));
            fetch_rows(b, &self.read).await?
        };
        sort_in_page_order(&mut rows, q);
        let next_cursor = match rows.last() {
            Some((millis, last)) if rows.len() == q.page_size as usize => {
                Some(cursor_at(q, &last.action, *millis, &last.id).encode())
            }
            _ => None,
        };
        let entries: Vec<EventRow> = rows.into_iter().map(|(_, row)| row).collect();
        let (total, total_is_lower_bound) = if let Some(total) = exact_total.or(counted) {
            (total, false)
        } else if q.q.is_some() && !q.exact_count {
            let n = self.count_capped_with(q, resolved, TEXT_COUNT_CAP).await?;
            (n.min(TEXT_COUNT_CAP), n > TEXT_COUNT_CAP)
        } else {
            (self.count_with(q, resolved).await?, false)
        };
        Ok(EventPage {
            entries,
            total,
            total_is_lower_bound,
            page: q.page,
            page_size: q.page_size,
            next_cursor,
        })
    }

    /// A page of free text that is common among the filter's rows, read by walking those rows in order and
    /// testing the text (about 1.4 µs a row), which fills the page sooner than reading every row the index
    /// names and sorting them (about 3 µs a row). The walk reads at most as many rows as the index names, so
    /// when the matches turn out rarer than their share of the filter's rows suggests (a term found only in
    /// older events), it gives up at no more cost than the other read: `None`, as for every other query.
    async fn walked_page(&self, q: &AuditQuery, resolved: &Resolved) -> Result<Option<PageRows>, StoreError> {
        let Some((matches, pattern)) = resolved.text.exact_matches() else {
            return Ok(None);
        };
        // Sorted by action next to another filter, the walk reads the action index, where the filter's rows may
        // all lie in the last actions: its budget counts only those rows, so it would read every event before
        // them (`q=zoe&outcome=failure&sort=action`, failures only in two actions: 1.6 s at 1M).
        let action_walk = q.sort == SortKey::Action && q.has_filters_besides_text();
        if matches == 0 || q.cursor.is_some() || action_walk {
            return Ok(None);
        }
        let structured = AuditQuery { q: None, ..q.clone() };
        let walk = Resolved {
            text: TextPlan::None,
            ..resolved.clone()
        };
        let filtered = self.count_with(&structured, &walk).await?;
        let wanted = q.offset() + u64::from(q.page_size);
        // The rows the walk is expected to read, if the matches were spread evenly among the filter's rows.
        let expected = wanted.saturating_mul(filtered) / matches;
        if expected.saturating_mul(2) > matches {
            return Ok(None);
        }
        let source = self.events_in_order(&structured, &walk).await?;
        self.walk_for_page(q, resolved, source, pattern, matches as i64).await
    }

    /// The page's rows, found by walking `source` in the page's order through the query's filters and testing
    /// the text on each row, for at most `budget` rows: `None` when those hold too few matches.
    async fn walk_for_page(
        &self,
        q: &AuditQuery,
        resolved: &Resolved,
        source: &str,
        pattern: &str,
        budget: i64,
    ) -> Result<Option<PageRows>, StoreError> {
        // The matches in the walk's order, from the page's first: fewer than a page when the walk ends first.
        let mut b = rows_query("events WHERE seq IN (SELECT seq FROM (SELECT seq, ");
        push_like(&mut b, pattern);
        b.push(" AS hit FROM ").push(source);
        push_structured(&mut b, q, resolved);
        push_order(&mut b, q);
        b.push(" LIMIT ").push_bind(budget);
        b.push(") WHERE hit LIMIT ").push_bind(i64::from(q.page_size));
        b.push(" OFFSET ").push_bind(q.offset() as i64).push(")");
        let rows = fetch_rows(b, &self.read).await?;
        Ok((rows.len() == q.page_size as usize).then_some(rows))
    }

    /// A deep page, sorted by time, of a search with more than 10,000 matches (through the index, which holds
    /// all of its filters): `fill_by_blocks` from the first block. `None` when the page is shallow (below
    /// `DEEP_TEXT_MIN_OFFSET`: the walk in time order fills it sooner), or when the first segment it reads spans
    /// more than 16 blocks (events that arrived far from their time), which the walk handles.
    async fn deep_text_page_by_blocks(
        &self,
        q: &AuditQuery,
        resolved: &Resolved,
    ) -> Result<Option<PageRows>, StoreError> {
        let Some(index) = resolved.text.indexed_query() else {
            return Ok(None);
        };
        let deep = self
            .anchor_min_offset
            .is_some_and(|min| q.offset() > min.max(super::DEEP_TEXT_MIN_OFFSET));
        if q.sort != SortKey::Timestamp || q.cursor.is_some() || !deep {
            return Ok(None);
        }
        let mut page = PageFill::new(q);
        Ok(match self.fill_by_blocks(q, resolved, index, &mut page).await? {
            Some(_) => Some(page.rows),
            None => None,
        })
    }

    /// Fills `page` in time order (`q`'s order; `q` is sorted by time) with the matches of a search through the
    /// index (`index`: its FTS5 query, which holds every filter of `q`, the last event it holds, and the LIKE
    /// pattern for the rows above). The blocks of 4,096 row ids (migration 14) are taken in time order and
    /// merged into segments whose times do not overlap; the index counts the matches of each block (FTS5 takes
    /// a range of row ids), so the page skips whole segments, then sorts only its own segment's matches, which
    /// the index names. The walk it replaces tested every row before the page (`q=zoe&page=2000`: 446 ms at
    /// 10M). Counts of blocks the index holds whole are remembered per FTS5 query (`BlockCounts`), so the
    /// next deep page of the same search counts only blocks not seen before. `Some(true)` once the page is
    /// full, `Some(false)` when the matches ran out first; `None`, with `page` untouched, when the first
    /// segment it would read spans more than 16 blocks (events that arrived far from their time: sorting that
    /// segment could mean sorting most of the table).
    async fn fill_by_blocks(
        &self,
        q: &AuditQuery,
        resolved: &Resolved,
        (expr, through, pattern): (&str, i64, &str),
        page: &mut PageFill,
    ) -> Result<Option<bool>, StoreError> {
        let blocks: String =
            sqlx::query_scalar("SELECT json_group_array(json_array(block, min_ts, max_ts)) FROM seq_blocks")
                .fetch_one(&self.read)
                .await?;
        let mut blocks: Vec<(i64, i64, i64)> = json_rows(&blocks)?;
        let desc = q.order == SortOrder::Desc;
        sort_blocks_in_page_order(&mut blocks, desc);
        // Segments in page order: blocks whose times overlap (or touch) the segment's join it.
        let mut segments: Vec<(Vec<i64>, i64, i64)> = Vec::new();
        for (block, min, max) in blocks {
            match segments.last_mut() {
                Some((members, lo, hi)) if (desc && max >= *lo) || (!desc && min <= *hi) => {
                    members.push(block);
                    *lo = (*lo).min(min);
                    *hi = (*hi).max(max);
                }
                _ => segments.push((vec![block], min, max)),
            }
        }
        let untouched = (page.skip, page.rows.len());
        let mut counted = self.block_counts.get(expr).unwrap_or_default();
        // How many blocks of row ids one count may span: a few for a page near the start (its rows are usually in
        // the first blocks), growing to 64.
        let mut width: i64 = if page.skip < 4096 { 4 } else { 64 };
        let mut k = 0;
        while let Some((members, _, _)) = segments.get(k) {
            let first = *members.iter().min().unwrap_or(&0);
            let last = *members.iter().max().unwrap_or(&0);
            if members.iter().any(|b| !counted.contains_key(b)) {
                // One count for the blocks of the next segments too, while they lie within `width` blocks of row ids
                // (events that arrive in time order: the next segments are the neighbouring blocks) and are not
                // counted yet.
                let (mut from, mut to) = (first, last);
                for (more, _, _) in &segments[k + 1..] {
                    let (a, b) = (*more.iter().min().unwrap_or(&0), *more.iter().max().unwrap_or(&0));
                    if from.min(a) + width <= to.max(b) || more.iter().all(|b| counted.contains_key(b)) {
                        break;
                    }
                    (from, to) = (from.min(a), to.max(b));
                }
                let (lo, hi) = (from << SEQ_BLOCK_SHIFT, ((to + 1) << SEQ_BLOCK_SHIFT) - 1);
                // Every block of the range: indexed matches by FTS5, the rest by LIKE.
                let indexed: Vec<(i64, i64)> = sqlx::query_as(&format!(
                    "SELECT rowid >> {SEQ_BLOCK_SHIFT}, COUNT(*) FROM events_fts \
                     WHERE events_fts MATCH ? AND rowid BETWEEN ? AND ? GROUP BY 1"
                ))
                .bind(expr)
                .bind(lo)
                .bind(hi.min(through))
                .fetch_all(&self.read)
                .await?;
                for b in from..=to {
                    counted.insert(b, 0);
                }
                for (b, n) in indexed {
                    counted.insert(b, n as u64);
                }
                if hi > through {
                    let mut c = QueryBuilder::new(format!(
                        "SELECT seq >> {SEQ_BLOCK_SHIFT}, COUNT(*) FROM events NOT INDEXED"
                    ));
                    push_structured(&mut c, q, resolved);
                    c.push(" AND seq > ").push_bind(lo.max(through));
                    c.push(" AND seq <= ").push_bind(hi).push(" AND ");
                    push_like(&mut c, pattern);
                    c.push(" GROUP BY 1");
                    let unindexed: Vec<(i64, i64)> = c.build_query_as().fetch_all(&self.read).await?;
                    for (b, n) in unindexed {
                        *counted.entry(b).or_insert(0) += n as u64;
                    }
                }
                let whole = (from..=to).filter(|b| ((b + 1) << SEQ_BLOCK_SHIFT) - 1 <= through);
                self.block_counts.add(expr, whole.map(|b| (b, counted[&b])));
                width = (width * 4).min(64);
            }
            let count_of = |members: &[i64]| {
                members
                    .iter()
                    .map(|b| counted.get(b).copied().unwrap_or(0))
                    .sum::<u64>()
            };
            let mut found = count_of(members);
            k += 1;
            if page.skips(found) {
                continue;
            }
            if members.len() > 16 && (page.skip, page.rows.len()) == untouched {
                return Ok(None);
            }
            // The segment's matches, and those of the next segments the page needs, while they are counted and
            // span 16 blocks at most: one read instead of one per segment (each FTS5 query costs a few ms
            // whatever its range, one lookup per term and index segment). Segments do not overlap in time, so
            // the order of their union is theirs one after the other.
            let mut blocks = members.clone();
            while found < page.skip + page.need
                && let Some((more, _, _)) = segments.get(k)
                && span(blocks.iter().chain(more)) <= 16
                && more.iter().all(|b| counted.contains_key(b))
            {
                found += count_of(more);
                blocks.extend(more);
                k += 1;
            }
            let first = *blocks.iter().min().unwrap_or(&0);
            let last = *blocks.iter().max().unwrap_or(&0);
            // Their matches: those the index names, and those above it by LIKE.
            let (lo, hi) = (first << SEQ_BLOCK_SHIFT, ((last + 1) << SEQ_BLOCK_SHIFT) - 1);
            let mut b =
                rows_query("events NOT INDEXED WHERE seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ");
            b.push_bind(expr.to_string());
            b.push(" AND rowid BETWEEN ")
                .push_bind(lo)
                .push(" AND ")
                .push_bind(hi.min(through));
            b.push(" UNION ALL SELECT seq FROM events NOT INDEXED");
            push_structured(&mut b, q, resolved);
            b.push(" AND seq > ").push_bind(lo.max(through + 1) - 1);
            b.push(" AND seq <= ").push_bind(hi).push(" AND ");
            push_like(&mut b, pattern);
            b.push(format!(") AND (seq >> {SEQ_BLOCK_SHIFT}) IN ("));
            let mut list = b.separated(", ");
            for block in blocks {
                list.push_bind(block);
            }
            b.push(")");
            push_order(&mut b, q);
            if page.take(b, &self.read).await? {
                return Ok(Some(true));
            }
        }
        Ok(Some(false))
    }

    /// The rows with these seqs.
    async fn rows_by_seq(&self, seqs: &[i64]) -> Result<PageRows, StoreError> {
        let mut b = rows_query("events WHERE seq IN (SELECT value FROM json_each(");
        b.push_bind(serde_json::to_string(seqs).unwrap_or_default()).push("))");
        fetch_rows(b, &self.read).await
    }

    /// A page sorted by action of a search through the index, which holds every filter of the query: with more
    /// than 10,000 matches, or next to filters with more than `SMALL_SET` (reading and sorting a set of up to
    /// 10,000 rows took 70–90 ms at 1M; a smaller set, or one of free text alone, is walked or sorted as before).
    /// A first page of free text alone first walks the action index testing the text, for at most
    /// `ACTION_WALK_ROWS` events: enough when the term is common in the first action of the order. Otherwise (and
    /// always next to filters, whose rows bunch in some actions: walking the action index for
    /// `q=zoe&outcome=failure` read 5 s of other actions at 10M) the page goes one action at a time, over the
    /// actions that have rows matching the filters (from the per-day counts): the index counts the action's
    /// matches (FTS5, with the action's tag), no further than the rows the page still skips, so that the page
    /// skips whole actions; within its action the page is read in time order block by block (`fill_by_blocks`).
    /// The counts are remembered with the index's mark (`count_indexed`). A set gives them all from one read of
    /// its rows (`count_set_by_action`); otherwise an action whose events hold no match costs a probe of the index
    /// (`proven_empty`, then the FTS5 query itself: about 60 ms at 10M for a phrase of common trigrams).
    async fn text_page_by_action(&self, q: &AuditQuery, resolved: &Resolved) -> Result<Option<PageRows>, StoreError> {
        let Some((expr, through, pattern)) = resolved.text.exact_query() else {
            return Ok(None);
        };
        // A small set is read and sorted whole, which costs less than asking the index about each action (an
        // action without matches can cost a walk through two of its lists); so is any set of free text alone.
        if let TextPlan::Index { matches, .. } = resolved.text
            && (matches <= SMALL_SET || !q.has_filters_besides_text())
        {
            return Ok(None);
        }
        if q.sort != SortKey::Action || q.cursor.is_some() {
            return Ok(None);
        }
        let wanted = q.offset() + u64::from(q.page_size);
        if !q.has_filters_besides_text() && wanted as i64 * 10 <= ACTION_WALK_ROWS {
            let by_action = "events INDEXED BY events_by_action";
            if let Some(rows) = self
                .walk_for_page(q, resolved, by_action, pattern, ACTION_WALK_ROWS)
                .await?
            {
                return Ok(Some(rows));
            }
        }
        let mut actions = Vec::new();
        for action in self.actions_with_rows(q, resolved).await? {
            let with_action = fulltext::with_action(self, expr, &action).await?;
            actions.push((action, with_action));
        }
        if let Some((seqs, _, _)) = resolved.text.index_set() {
            fulltext::count_set_by_action(self, seqs, through, &actions).await?;
        }
        let mut page = PageFill::new(q);
        for (action, expr) in actions {
            let within = AuditQuery {
                actions: vec![action.clone()],
                sort: SortKey::Timestamp,
                ..q.clone()
            };
            // The action's matches, no more than the page skips and one: indexed, then above the index.
            let cap = page.skip as i64 + 1;
            let indexed = fulltext::count_indexed(self, &expr, through, cap, (&within, resolved, pattern)).await?;
            let unindexed = fulltext::unindexed_count(self, &within, resolved, through, pattern, cap).await?;
            if page.skips((indexed + unindexed) as u64) {
                continue;
            }
            match self
                .fill_by_blocks(&within, resolved, (&expr, through, pattern), &mut page)
                .await?
            {
                Some(true) => break,
                Some(false) => {}
                None => {
                    // Events far from their time: the action's events in its index's order, testing the text.
                    let mut b = rows_query("events INDEXED BY events_by_action");
                    push_structured(&mut b, &within, resolved);
                    b.push(" AND ");
                    push_like(&mut b, pattern);
                    push_order(&mut b, q);
                    if page.take(b, &self.read).await? {
                        break;
                    }
                }
            }
        }
        Ok(Some(page.rows))
    }

    /// The actions with events that match the query's filters besides its text, in the query's order: from the
    /// per-day counts by action when they count those filters, otherwise every action ever stored (or the
    /// query's own).
    async fn actions_with_rows(&self, q: &AuditQuery, resolved: &Resolved) -> Result<Vec<String>, StoreError> {
        let structured = AuditQuery { q: None, ..q.clone() };
        let without_text = Resolved {
            text: TextPlan::None,
            ..resolved.clone()
        };
        let mut conn = self.read.acquire().await?;
        let histogram = self
            .histograms
            .get(&mut conn, &structured, &without_text, Split::ByAction)
            .await?;
        if let Some((histogram, _)) = histogram {
            return Ok(days::actions_in_order(&histogram, q.order));
        }
        let mut actions: Vec<String> =
            sqlx::query_scalar("SELECT value FROM value_counts WHERE col = 'action' AND n > 0 ORDER BY value")
                .fetch_all(&mut *conn)
                .await?;
        if !q.actions.is_empty() {
            actions.retain(|a| q.actions.contains(a));
        }
        if q.order == SortOrder::Desc {
            actions.reverse();
        }
        Ok(actions)
    }

    /// A page near the end of a search counted exactly (`count=exact`, through the index: `total`), read from
    /// the other end: the same rows in the opposite order, as the first rows of that order. "Last page" after "Count
    /// exactly" would otherwise walk every match before it (seconds for a common term at 10M events). Only
    /// when the page is within ten pages of the end, since the rows after it are read too.
    async fn page_from_the_end(&self, q: &AuditQuery, total: u64) -> Result<Option<EventPage>, StoreError> {
        if q.cursor.is_some() {
            return Ok(None);
        }
        let (offset, size) = (q.offset(), u64::from(q.page_size));
        let after = total.saturating_sub(offset);
        if after == 0 || after >= offset || after > 10 * size {
            return Ok(None);
        }
        let reversed = AuditQuery {
            order: q.order.flipped(),
            page: 1,
            page_size: after as u32,
            exact_count: false,
            ..q.clone()
        };
        let tail = Box::pin(self.list(&reversed)).await?;
        // The rows from this page's first to the last, newest last: this page is the first `size` of them.
        let entries: Vec<EventRow> = tail.entries.into_iter().rev().take(size as usize).collect();
        let next_cursor = match entries.last() {
            // As for every page: a full page has a cursor, even the last (the next is then empty).
            Some(last) if entries.len() as u64 == size => {
                let millis = time::parse_rfc3339(&last.timestamp)
                    .map(time::to_millis)
                    .unwrap_or_default();
                Some(cursor_at(q, &last.action, millis, &last.id).encode())
            }
            _ => None,
        };
        Ok(Some(EventPage {
            entries,
            total,
            total_is_lower_bound: false,
            page: q.page,
            page_size: q.page_size,
            next_cursor,
        }))
    }

    /// A page, sorted by time, of the rows a search's index names (at most 10,000, and the matching rows not
    /// yet indexed), without looking up and sorting all of them: their row ids fall in blocks whose range of
    /// times the writer keeps (migration 14). Blocks are read newest first (oldest first for `order=asc`), a
    /// few at a time, until the page's rows are found and the next block's times cannot hold a row that
    /// sorts before the last of them. Events mostly arrive in time order, so that is usually after one or two
    /// blocks. `None` for other queries.
    async fn set_page_by_blocks(&self, q: &AuditQuery, resolved: &Resolved) -> Result<Option<PageRows>, StoreError> {
        let Some((indexed, through, pattern)) = resolved.text.index_set() else {
            return Ok(None);
        };
        if q.sort != SortKey::Timestamp || q.cursor.is_some() {
            return Ok(None);
        }
        let wanted = (q.offset() + u64::from(q.page_size)) as usize;
        let mut seqs: Vec<i64> = json_rows(indexed)?;
        let mut b = QueryBuilder::new("SELECT seq FROM events WHERE seq > ");
        b.push_bind(through).push(" AND ");
        push_like(&mut b, pattern);
        seqs.extend(b.build_query_scalar::<i64>().fetch_all(&self.read).await?);
        if seqs.len() <= wanted {
            return Ok(None);
        }
        let mut by_block: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for seq in seqs {
            by_block.entry(seq >> SEQ_BLOCK_SHIFT).or_default().push(seq);
        }
        let numbers = serde_json::to_string(&by_block.keys().collect::<Vec<_>>()).unwrap_or_default();
        let known: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(block, min_ts, max_ts)) FROM seq_blocks \
             WHERE block IN (SELECT value FROM json_each(?))",
        )
        .bind(numbers)
        .fetch_one(&self.read)
        .await?;
        let known: std::collections::HashMap<i64, (i64, i64)> = json_rows::<(i64, i64, i64)>(&known)?
            .into_iter()
            .map(|(block, min, max)| (block, (min, max)))
            .collect();
        // Each block with its times (a block without them could hold any time).
        let mut blocks: Vec<(i64, i64, i64)> = by_block
            .keys()
            .map(|&block| {
                let (min, max) = known.get(&block).copied().unwrap_or((i64::MIN, i64::MAX));
                (block, min, max)
            })
            .collect();
        let desc = q.order == SortOrder::Desc;
        sort_blocks_in_page_order(&mut blocks, desc);
        let in_page_order = |a: &(i64, String, i64), b: &(i64, String, i64)| {
            let ascending = (a.0, &a.1).cmp(&(b.0, &b.1));
            if desc { ascending.reverse() } else { ascending }
        };
        // The first `wanted` rows in page order so far: (ts, id, seq).
        let mut best: Vec<(i64, String, i64)> = Vec::with_capacity(wanted * 2);
        let mut next = 0;
        while next < blocks.len() {
            if best.len() >= wanted {
                let last = best[wanted - 1].0;
                let (_, min, max) = blocks[next];
                if (desc && max < last) || (!desc && min > last) {
                    break;
                }
            }
            let mut chunk: Vec<i64> = Vec::new();
            while next < blocks.len() && (chunk.is_empty() || chunk.len() < wanted) {
                chunk.extend(&by_block[&blocks[next].0]);
                next += 1;
            }
            let mut b = QueryBuilder::new("SELECT json_group_array(json_array(ts, id, seq)) FROM events NOT INDEXED");
            push_structured(&mut b, q, resolved);
            b.push(" AND seq IN (SELECT value FROM json_each(")
                .push_bind(serde_json::to_string(&chunk).unwrap_or_default())
                .push("))");
            let found: String = b.build_query_scalar().fetch_one(&self.read).await?;
            best.extend(json_rows::<(i64, String, i64)>(&found)?);
            best.sort_by(in_page_order);
            best.truncate(wanted);
        }
        let page: Vec<i64> = best.iter().skip(q.offset() as usize).map(|r| r.2).collect();
        Ok(Some(self.rows_by_seq(&page).await?))
    }

    /// How many events match the filters. Structured filters are counted incrementally (see `count_cache`);
    /// a free-text search is counted afresh.
    pub async fn count(&self, q: &AuditQuery) -> Result<u64, StoreError> {
        if q.is_unfiltered() {
            return self.count_with(q, &Resolved::default()).await;
        }
        self.count_with(q, &self.resolve(q).await?).await
    }

    /// `count`, with the query's filters already resolved (`list` resolves once for its rows and its total).
    async fn count_with(&self, q: &AuditQuery, resolved: &Resolved) -> Result<u64, StoreError> {
        if q.is_unfiltered() {
            let n: i64 = sqlx::query_scalar("SELECT n FROM event_count WHERE id = 1")
                .fetch_one(&self.read)
                .await?;
            return Ok(n as u64);
        }
        if q.q.is_some() {
            if let Some(n) = indexed_total(self, q, resolved, i64::MAX).await? {
                return Ok(n);
            }
            if let Some(n) = self.count_by_blocks(q, resolved, i64::MAX).await? {
                return Ok(n);
            }
            let mut b = QueryBuilder::new(format!("SELECT COUNT(*) FROM {}", resolved.table(q)));
            push_filters(&mut b, q, resolved);
            let n: i64 = b.build_query_scalar().fetch_one(&self.read).await?;
            return Ok(n as u64);
        }
        let key = count_key(q);
        let (known, through) = self.counts.get(&key).unwrap_or((0, -1));
        if through < 0
            && let Some((total, head)) = self.count_by_days(q, resolved).await?
        {
            self.counts.put(key, total, head);
            return Ok(total);
        }
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.read)
            .await?;
        if through == head {
            return Ok(known);
        }
        let mut b = if through < 0 {
            // First time: the filter's own index, bounded by `head` (`+seq` keeps SQLite off the rowid range).
            QueryBuilder::new(format!("SELECT COUNT(*) FROM {}", resolved.table(q)))
        } else {
            // Since last time: only the rows above the known point, by rowid range.
            QueryBuilder::new("SELECT COUNT(*) FROM events NOT INDEXED")
        };
        push_filters(&mut b, q, resolved);
        if through >= 0 {
            b.push(" AND seq > ").push_bind(through);
        }
        b.push(" AND +seq <= ").push_bind(head);
        let added: i64 = b.build_query_scalar().fetch_one(&self.read).await?;
        let total = known + added as u64;
        self.counts.put(key, total, head);
        Ok(total)
    }

    /// The total of a query whose filters are counted per day (see `days`), with the `seq` it is exact through,
    /// read in one transaction. `None` for other queries.
    async fn count_by_days(&self, q: &AuditQuery, resolved: &Resolved) -> Result<Option<(u64, i64)>, StoreError> {
        let mut tx = self.read.begin().await?;
        let days = self.histograms.get(&mut tx, q, resolved, Split::ByDay).await?;
        tx.commit().await?;
        Ok(days.map(|(days, head)| (days::total(&days), head)))
    }

    /// Where the page that skips `offset` rows starts, from the per-day counts: `None` for a query they do not
    /// count. For the action sort: first the action, then the day within it.
    async fn anchor(
        &self,
        conn: &mut SqliteConnection,
        q: &AuditQuery,
        resolved: &Resolved,
        offset: u64,
    ) -> Result<Option<Anchor>, StoreError> {
        let split = match q.sort {
            SortKey::Timestamp => Split::ByDay,
            SortKey::Action => Split::ByAction,
        };
        let Some((histogram, _)) = self.histograms.get(conn, q, resolved, split).await? else {
            return Ok(None);
        };
        let matching = days::total(&histogram);
        let (action, then, days, offset) = match q.sort {
            SortKey::Timestamp => (None, Vec::new(), &histogram[..], offset),
            SortKey::Action => {
                let Some((action, rest)) = days::locate_action(&histogram, q.order, offset) else {
                    return Ok(Some(Anchor::PastTheEnd));
                };
                let then = days::actions_in_order(&histogram, q.order)
                    .into_iter()
                    .skip_while(|a| a != action)
                    .skip(1)
                    .collect();
                (
                    Some(action.to_string()),
                    then,
                    days::of_action(&histogram, action),
                    rest,
                )
            }
        };
        Ok(Some(match days::locate_day(days, q.order, offset) {
            Some((day, rest, held)) => Anchor::At {
                action,
                then,
                matching,
                day: (day, held),
                offset: rest,
            },
            None => Anchor::PastTheEnd,
        }))
    }

    /// The count, up to `cap`, of a search in a time range through the index, which holds every other filter
    /// (`TextPlan::timed_query`), by blocks of 4,096 row ids (migration 14 keeps each block's range of times):
    /// the index counts the blocks whose times lie inside the range, in runs of up to 64 blocks, and LIKE tests
    /// the rows of the blocks at its ends (and those not yet indexed). Counting every row of the range with
    /// LIKE read 90,000 rows to reach 10,001 matches of a common term (`q=zoe&from=…&to=…`: 66 ms at 10M).
    /// `None` for other searches.
    async fn count_by_blocks(&self, q: &AuditQuery, resolved: &Resolved, cap: i64) -> Result<Option<u64>, StoreError> {
        let Some((expr, through, pattern)) = resolved.text.timed_query() else {
            return Ok(None);
        };
        let from = q.from.as_ref().map_or(i64::MIN, |b| b.millis);
        let to = q.to.as_ref().map_or(i64::MAX, |b| b.millis);
        let blocks: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(block, min_ts, max_ts)) FROM seq_blocks \
             WHERE max_ts >= ? AND min_ts <= ?",
        )
        .bind(from)
        .bind(to)
        .fetch_one(&self.read)
        .await?;
        let mut blocks: Vec<(i64, i64, i64)> = json_rows(&blocks)?;
        blocks.sort_unstable();
        let inside = |&(block, min, max): &(i64, i64, i64)| {
            min >= from && max <= to && ((block + 1) << SEQ_BLOCK_SHIFT) - 1 <= through
        };
        let mut n = 0i64;
        let mut rest = blocks.as_slice();
        while let Some(first) = rest.first()
            && n < cap
        {
            // A run of neighbouring blocks inside the range, counted by the index; or one block at an end.
            let run = if inside(first) {
                rest.iter()
                    .take(64)
                    .enumerate()
                    .take_while(|&(i, b)| inside(b) && b.0 == first.0 + i as i64)
                    .count()
            } else {
                1
            };
            let (lo, hi) = (
                first.0 << SEQ_BLOCK_SHIFT,
                ((rest[run - 1].0 + 1) << SEQ_BLOCK_SHIFT) - 1,
            );
            n += if inside(first) {
                fulltext::fts_count(self, expr, (lo - 1, hi), cap - n).await?
            } else {
                fulltext::like_count(self, q, resolved, (lo - 1, Some(hi)), pattern, cap - n).await?
            };
            rest = &rest[run..];
        }
        Ok(Some(n as u64))
    }

    /// How many events match, counting no further than `cap + 1`.
    pub async fn count_capped(&self, q: &AuditQuery, cap: u64) -> Result<u64, StoreError> {
        self.count_capped_with(q, &self.resolve(q).await?, cap).await
    }

    async fn count_capped_with(&self, q: &AuditQuery, resolved: &Resolved, cap: u64) -> Result<u64, StoreError> {
        if let Some(n) = indexed_total(self, q, resolved, (cap + 1) as i64).await? {
            return Ok(n);
        }
        if let Some(n) = self.count_by_blocks(q, resolved, (cap + 1) as i64).await? {
            return Ok(n);
        }
        let mut b = QueryBuilder::new(format!("SELECT COUNT(*) FROM (SELECT 1 FROM {}", resolved.table(q)));
        push_filters(&mut b, q, resolved);
        b.push(" LIMIT ").push_bind((cap + 1) as i64).push(")");
        let n: i64 = b.build_query_scalar().fetch_one(&self.read).await?;
        Ok(n as u64)
    }

    /// One event, whole.
    pub async fn get(&self, id: &str) -> Result<Event, StoreError> {
        let sql = format!("SELECT {FULL_COLUMNS} FROM events WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        event_from(&row)
    }

    /// What a query's filters need decided against the data before its SQL is written.
    pub(super) async fn resolve(&self, q: &AuditQuery) -> Result<Resolved, StoreError> {
        let target_indexed_through = match q.target_id {
            Some(_) => {
                sqlx::query_scalar("SELECT indexed_through FROM fts_progress WHERE id = 1")
                    .fetch_one(&self.read)
                    .await?
            }
            None => 0,
        };
        let actor = self.actor_keys(q).await?;
        let text = self
            .text_plan(q, actor.as_ref().map(|a| (a.whos.as_slice(), a.exact)))
            .await?;
        Ok(Resolved {
            actor,
            target_indexed_through,
            text,
        })
    }

    /// The actor filter matches id, email or name. Events are indexed by one key per actor, `who` (see
    /// migration 8); the small `actors` table says which keys have the value in one of their parts, and
    /// whether every event of those keys has it (then the key alone is the filter).
    async fn actor_keys(&self, q: &AuditQuery) -> Result<Option<ActorKeys>, StoreError> {
        let Some(actor) = &q.actor else { return Ok(None) };
        let keys: Vec<(String, bool)> = sqlx::query_as(
            "SELECT who, MIN(actor_id = ?1 OR actor_email = ?1 OR actor_name = ?1) FROM actors WHERE who IN \
             (SELECT who FROM actors WHERE actor_id = ?1 UNION SELECT who FROM actors WHERE actor_email = ?1 \
              UNION SELECT who FROM actors WHERE actor_name = ?1) \
             GROUP BY who ORDER BY who",
        )
        .bind(actor)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(ActorKeys {
            value: actor.clone(),
            exact: keys.iter().all(|(_, all)| *all),
            whos: keys.into_iter().map(|(who, _)| who).collect(),
        }))
    }

    /// What the filter menus offer: actions by category with counts, target types, sources, busiest actors.
    /// All from the totals per value (a few dozen rows), never from the events.
    pub async fn facets(&self) -> Result<Facets, StoreError> {
        let actions: Vec<(String, i64)> =
            sqlx::query_as("SELECT value, n FROM value_counts WHERE col = 'action' AND n > 0 ORDER BY value")
                .fetch_all(&self.read)
                .await?;
        let mut categories: Vec<CategoryFacet> = Vec::new();
        for (action, count) in actions {
            let category = category_of(&action).to_string();
            let entry = ActionCount {
                action,
                count: count as u64,
            };
            match categories.last_mut() {
                Some(c) if c.category == category => c.actions.push(entry),
                _ => categories.push(CategoryFacet {
                    category,
                    actions: vec![entry],
                }),
            }
        }
        categories.sort_by(|a, b| a.category.cmp(&b.category));
        let values = |col: &'static str| {
            sqlx::query_scalar("SELECT value FROM value_counts WHERE col = ? AND n > 0 ORDER BY value")
                .bind(col)
                .fetch_all(&self.read)
        };
        let target_types = values("target_type").await?;
        let sources = values("source").await?;
        let actors: Vec<(String, i64)> = sqlx::query_as(
            "SELECT value, n FROM value_counts WHERE col = 'actor' AND n > 0 \
             ORDER BY n DESC, value LIMIT 50",
        )
        .fetch_all(&self.read)
        .await?;
        let actors = actors
            .into_iter()
            .map(|(actor, n)| ActorFacet { actor, count: n as u64 })
            .collect();
        Ok(Facets {
            categories,
            target_types,
            sources,
            actors,
        })
    }
}

/// Each event with its id: its own, or a new ULID (monotonic within the batch, so the batch keeps its order).
pub(super) fn with_ids(events: Vec<ValidEvent>) -> Vec<(String, ValidEvent)> {
    let mut generator = Generator::new();
    events
        .into_iter()
        .map(|e| {
            let id = match &e.id {
                Some(id) => id.clone(),
                None => generator
                    .generate()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| ulid::Ulid::new().to_string()),
            };
            (id, e)
        })
        .collect()
}

/// A query's filters as decided against the data: the actor's keys, how far the target-id index reaches,
/// how to search text.
#[derive(Clone, Debug, Default)]
pub(super) struct Resolved {
    actor: Option<ActorKeys>,
    target_indexed_through: i64,
    text: TextPlan,
}

impl Resolved {
    /// The events table as a query with these filters reads it. A set of rows named by seq (a target id's, or a
    /// term's from the free-text index, at most `INDEX_PLAN_MAX`) drives the read next to other filters:
    /// `NOT INDEXED` still looks rows up by seq, but keeps SQLite from walking another filter's index and
    /// testing every entry against the set (at 10M events, a term without matches next to `outcome=failure`
    /// read 800,000 index entries).
    pub(super) fn table(&self, q: &AuditQuery) -> &'static str {
        let by_text_index = matches!(self.text, TextPlan::Index { .. }) && q.has_filters_besides_text();
        if by_text_index || q.target_id.is_some() {
            "events NOT INDEXED"
        } else {
            "events"
        }
    }

    /// How the query's free text is searched.
    pub(super) fn text(&self) -> &TextPlan {
        &self.text
    }

    /// The actor filter's `who` keys, and whether they alone select exactly its events.
    pub(super) fn actor_keys(&self) -> Option<(&[String], bool)> {
        self.actor.as_ref().map(|a| (a.whos.as_slice(), a.exact))
    }
}

/// The `who` keys (see migration 8) of the actors whose id, email or name is `value`.
#[derive(Clone, Debug)]
struct ActorKeys {
    value: String,
    whos: Vec<String>,
    /// Every event of these keys has the value (so the keys alone select exactly its events).
    exact: bool,
}

/// The expression `events_by_actor` indexes.
const WHO: &str = "COALESCE(actor_email, actor_id, actor_name)";

/// A page filled from parts in their order (actions, segments of blocks): a part the page starts after is
/// skipped whole; the others are read for what is left to skip and what is still needed.
struct PageFill {
    skip: u64,
    need: u64,
    rows: PageRows,
}

impl PageFill {
    fn new(q: &AuditQuery) -> Self {
        PageFill {
            skip: q.offset(),
            need: u64::from(q.page_size),
            rows: Vec::new(),
        }
    }

    /// Skips a part of `n` rows when the page starts after it; true when it did.
    fn skips(&mut self, n: u64) -> bool {
        if n > self.skip {
            return false;
        }
        self.skip -= n;
        true
    }

    /// Reads the page's rows from a part (its query in the page's order, without a LIMIT); true once the page
    /// is full.
    async fn take(
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

/// How many blocks of row ids lie from the lowest of `blocks` to the highest.
fn span<'a>(blocks: impl Iterator<Item = &'a i64>) -> i64 {
    let (lo, hi) = blocks.fold((i64::MAX, i64::MIN), |(lo, hi), &b| (lo.min(b), hi.max(b)));
    hi - lo + 1
}

/// Blocks of row ids, `(block, min_ts, max_ts)`, in the order a page reads them: newest last time first
/// (`desc`), or oldest first time first.
fn sort_blocks_in_page_order(blocks: &mut [(i64, i64, i64)], desc: bool) {
    if desc {
        blocks.sort_by_key(|&(_, _, max)| std::cmp::Reverse(max));
    } else {
        blocks.sort_by_key(|&(_, min, _)| min);
    }
}

/// Matches of a search through the index few enough to read and sort whole for a page sorted by action (about
/// 8 ms at 1,000), rather than count action by action.
const SMALL_SET: i64 = 1_000;

/// How many events a first page of free text sorted by action walks before it counts matches action by action
/// (`text_page_by_action`): about 14 ms of testing the text at 10M events, when the walk finds too few (the
/// term is rare in the first actions: `q=nightly-1&sort=action` spent 145 ms walking 20,000 rows). A page
/// walks only when it wants at most a tenth of this.
const ACTION_WALK_ROWS: i64 = 2_000;

/// `WHERE` for every filter of the query, all bound, combined with AND.
pub(super) fn push_filters(b: &mut impl SqlSink, q: &AuditQuery, resolved: &Resolved) {
    push_structured(b, q, resolved);
    push_text(b, &resolved.text);
}

/// `WHERE` for every filter of the query but its free text.
pub(super) fn push_structured(b: &mut impl SqlSink, q: &AuditQuery, resolved: &Resolved) {
    b.sql(" WHERE 1 = 1");
    if !q.actions.is_empty() {
        b.sql(" AND action IN ").texts(&q.actions);
    }
    if let Some(c) = &q.category {
        b.sql(" AND category = ").text(c.clone());
    }
    if let Some(a) = &resolved.actor {
        if a.whos.is_empty() {
            b.sql(" AND 0");
        } else {
            b.sql(" AND ").sql(WHO).sql(" IN ").texts(&a.whos);
            if !a.exact {
                b.sql(" AND (actor_id = ").text(a.value.clone());
                b.sql(" OR actor_email = ").text(a.value.clone());
                b.sql(" OR actor_name = ").text(a.value.clone()).sql(")");
            }
        }
    }
    // The outcome and the actor type are written as literals (each is one of a few fixed words), with the
    // condition of their partial index (migration 12), so that SQLite can use that index.
    if let Some(t) = q.actor_type {
        b.sql(" AND actor_type = '").sql(t.as_str()).sql("'");
        if t != ActorType::User {
            b.sql(" AND actor_type <> 'user'");
        }
    }
    if let Some(t) = &q.target_type {
        b.sql(" AND target_type = ").text(t.clone());
    }
    if let Some(t) = &q.target_id {
        // The target-id index reaches `target_indexed_through`; rows above it are checked directly.
        b.sql(" AND target_id = ").text(t.clone());
        b.sql(" AND seq IN (SELECT seq FROM target_events WHERE target_id = ")
            .text(t.clone());
        b.sql(" UNION ALL SELECT seq FROM events WHERE seq > ")
            .int(resolved.target_indexed_through);
        b.sql(" AND target_id = ").text(t.clone()).sql(")");
    }
    if let Some(o) = q.outcome {
        b.sql(" AND outcome = '").sql(o.as_str()).sql("'");
    }
    if let Some(s) = &q.source {
        b.sql(" AND source = ").text(s.clone());
    }
    if let Some(f) = &q.from {
        b.sql(" AND ts >= ").int(f.millis);
    }
    if let Some(t) = &q.to {
        b.sql(" AND ts <= ").int(t.millis);
    }
}

impl AuditStore {
    /// The events table as a walk in `q`'s order reads it. Sorted by action, with many matching rows, through
    /// the action index, which holds that order: left to itself SQLite may take a filter's index and sort every
    /// matching row (seconds for an actor with a million events). With few, SQLite chooses (sorting them is
    /// cheap; walking the action index for them would read everything). Free text and a target id take their
    /// rows from their own indexes.
    pub(super) async fn events_in_order(
        &self,
        q: &AuditQuery,
        resolved: &Resolved,
    ) -> Result<&'static str, StoreError> {
        if q.sort != SortKey::Action || q.q.is_some() || q.target_id.is_some() {
            return Ok(resolved.table(q));
        }
        // A total seen before is enough to choose (it only grows); the first time, it is counted.
        let matching = match self.counts.get(&count_key(q)) {
            Some((n, _)) => n,
            None => self.count_with(q, resolved).await?,
        };
        Ok(if matching > self.sort_by_index_rows {
            "events INDEXED BY events_by_action"
        } else {
            "events"
        })
    }
}

/// Where a deep page starts: after the rows before this point in the sort order, skip `offset` more.
#[derive(Debug, PartialEq)]
enum Anchor {
    /// The page starts in this action (action sort) and on this day (a UTC day number, with how many matching
    /// rows it holds, of the action when sorting by action), after `offset` rows of that day. `then`: the
    /// actions after it that have matching rows, in order.
    At {
        action: Option<String>,
        then: Vec<String>,
        day: (i64, u64),
        offset: u64,
        /// How many rows the query matches in all.
        matching: u64,
    },
    /// The offset is past the last row.
    PastTheEnd,
}

/// The rest of a query for `limit` rows from the anchor's day on (` AND`, ` ORDER BY`, ` LIMIT`, ` OFFSET`), after
/// `before` of the day's `held` matching rows: from the day's first instant in the page's order on. When the rows
/// lie in the second half of the day, from its other end instead, within the day and in the opposite order
/// (the page's rows are put in order after they are read): the rows skipped are then at most half a day's
/// rather than up to all of them (`category=mailbox&outcome=success&source=mail-manager&page=2000`: about 3,600
/// a day at 10M). The counts are exact in the snapshot that reads the rows.
fn push_from_day(
    b: &mut QueryBuilder<'_, sqlx::Sqlite>,
    q: &AuditQuery,
    (day, held): (i64, u64),
    before: u64,
    limit: u64,
) {
    let (order, skip) = if before * 2 > held && before + limit <= held {
        b.push(" AND ts >= ").push_bind(day * DAY_MS);
        b.push(" AND ts < ").push_bind((day + 1) * DAY_MS);
        (q.order.flipped(), held - before - limit)
    } else {
        let op = match q.order {
            SortOrder::Desc => " <= ",
            SortOrder::Asc => " >= ",
        };
        b.push(" AND ts").push(op).push_bind(days::day_edge(day, q.order));
        (q.order, before)
    };
    push_order_by(b, q.sort, order);
    b.push(" LIMIT ").push_bind(limit as i64);
    b.push(" OFFSET ").push_bind(skip as i64);
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

fn push_order_by(b: &mut impl SqlSink, sort: SortKey, order: SortOrder) {
    let dir = match order {
        SortOrder::Desc => "DESC",
        SortOrder::Asc => "ASC",
    };
    match sort {
        SortKey::Timestamp => b.sql(&format!(" ORDER BY ts {dir}, id {dir}")),
        SortKey::Action => b.sql(&format!(" ORDER BY action {dir}, ts {dir}, id {dir}")),
    };
}

/// The cursor after the row with this action, time and id, in `q`'s order (the action is its key only when
/// sorting by action).
fn cursor_at(q: &AuditQuery, action: &str, millis: i64, id: &str) -> Cursor {
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

/// The count cache's key for the total of `q`'s structured filters (`count_with`).
fn count_key(q: &AuditQuery) -> String {
    q.filters_only().to_query_string()
}

/// A page's rows, each with its time in milliseconds (for the cursor after it).
type PageRows = Vec<(i64, EventRow)>;

/// The columns of `ROW_COLUMNS` as JSON values, in that order.
type RowValues = (
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
);

/// Starts the query for a page's rows: `SELECT ROW_COLUMNS FROM ` and `from`; the caller writes the rest
/// (filters, order, limit) and `fetch_rows` closes and reads it. The rows come back as one JSON array:
/// sqlx hands each row over from its connection's thread on its own, waking the reader, and then each
/// column is looked up by name, which was a third of the time of a page of 50 rows at 1M events.
fn rows_query(from: &str) -> QueryBuilder<'static, sqlx::Sqlite> {
    QueryBuilder::new(format!(
        "SELECT json_group_array(json_array({ROW_COLUMNS})) FROM (SELECT {ROW_COLUMNS} FROM {from}"
    ))
}

/// Reads the rows of a query that `rows_query` started, in no particular order (see `sort_in_page_order`).
async fn fetch_rows<'e>(
    mut b: QueryBuilder<'_, sqlx::Sqlite>,
    conn: impl sqlx::SqliteExecutor<'e>,
) -> Result<PageRows, StoreError> {
    b.push(")");
    let json: String = b.build_query_scalar().fetch_one(conn).await?;
    Ok(json_rows(&json)?.into_iter().map(row_from).collect())
}

/// Puts a page's rows in the query's order (its `ORDER BY`: the action when sorting by it, then time and id).
fn sort_in_page_order(rows: &mut PageRows, q: &AuditQuery) {
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

fn row_from(
    (
        id,
        millis,
        action,
        outcome,
        actor_type,
        actor_id,
        actor_name,
        actor_email,
        target_type,
        target_id,
        target_name,
        source,
        ip,
        summary,
    ): RowValues,
) -> (i64, EventRow) {
    let row = EventRow {
        id,
        timestamp: time::format_millis(millis),
        action,
        outcome,
        actor_type,
        actor_id,
        actor_name,
        actor_email,
        target_type,
        target_id,
        target_name,
        source,
        ip: ip.map(|s| ip::mask(&s)),
        summary,
    };
    (millis, row)
}

fn event_from(r: &SqliteRow) -> Result<Event, StoreError> {
    let details: String = r.try_get("details")?;
    let details: Map<String, Value> = serde_json::from_str(&details).unwrap_or_default();
    Ok(Event {
        details,
        ..event_without_details(r)?
    })
}

fn event_without_details(r: &SqliteRow) -> Result<Event, StoreError> {
    let target_type: Option<String> = r.try_get("target_type")?;
    let details = Map::new();
    let actor_type: String = r.try_get("actor_type")?;
    let outcome: String = r.try_get("outcome")?;
    Ok(Event {
        id: r.try_get("id")?,
        timestamp: time::format_millis(r.try_get("ts")?),
        received_at: time::format_millis(r.try_get("received_at")?),
        action: r.try_get("action")?,
        outcome: Outcome::parse(&outcome).unwrap_or_default(),
        actor: Actor {
            kind: ActorType::parse(&actor_type).unwrap_or(ActorType::System),
            id: r.try_get("actor_id")?,
            name: r.try_get("actor_name")?,
            email: r.try_get("actor_email")?,
        },
        target: match target_type {
            Some(kind) => Some(Target {
                kind,
                id: r.try_get("target_id")?,
                name: r.try_get("target_name")?,
            }),
            None => None,
        },
        source: r.try_get("source")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        details,
    })
}
