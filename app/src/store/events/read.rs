//! The executors of the structured plans (`Keyset`, `Offset`, `Anchored`, `AnchoredByAction`) and of the text
//! walk: each reads one page's rows, in no particular order (`list` sorts them).

use sqlx::{QueryBuilder, SqliteConnection};

use super::rows::{fetch_rows, rows_query};
use crate::{
    model::{AuditQuery, SortKey, SortOrder},
    store::{
        days::{self, Split},
        error::StoreError,
        filter::{Resolved, Source, push_after_cursor, push_filters, push_like, push_order, push_order_by},
        handle::AuditStore,
        schema::{DAY_MS, PageRows},
    },
};

/// Where a deep page starts: after the rows before this point in the sort order, skip `offset` more.
#[derive(Debug, PartialEq)]
struct Anchor {
    /// The action the page starts in (sorted by action), and the actions after it with matching rows.
    action: Option<(String, Vec<String>)>,
    /// The UTC day the page starts on, with how many matching rows it holds (of the action, sorted by it).
    day: (i64, u64),
    /// Rows of that day before the page.
    offset: u64,
    /// How many rows the query matches in all.
    matching: u64,
}

impl AuditStore {
    /// `Keyset`: the first rows in the page's order, or those after its cursor.
    pub(super) async fn keyset_page(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        source: Source,
    ) -> Result<PageRows, StoreError> {
        let mut b = rows_query(source.sql());
        push_filters(&mut b, q, r);
        if let Some(c) = &q.cursor {
            push_after_cursor(&mut b, q, c);
        }
        push_order(&mut b, q);
        b.push(" LIMIT ").push_bind(i64::from(q.page_size));
        fetch_rows(b, &self.read).await
    }

    /// `Offset`: skips the offset inside a subquery that reads only the index it walks (row ids come with
    /// every index), then reads the table for just the rows of the page.
    pub(super) async fn offset_page(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        source: Source,
    ) -> Result<PageRows, StoreError> {
        let mut b = rows_query("events WHERE seq IN (SELECT seq FROM ");
        b.push(source.sql());
        push_filters(&mut b, q, r);
        push_order(&mut b, q);
        b.push(" LIMIT ").push_bind(i64::from(q.page_size));
        b.push(" OFFSET ").push_bind(q.offset() as i64).push(")");
        fetch_rows(b, &self.read).await
    }

    /// `Anchored` and `AnchoredByAction`: the page from the day (and action) the per-day counts place it in;
    /// both reads share one snapshot, so the page is exactly the one `Offset` reads. Also returns the total the
    /// counts gave.
    pub(super) async fn anchored_page(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        source: Source,
    ) -> Result<(PageRows, Option<u64>), StoreError> {
        let mut tx = self.read.begin().await?;
        let Some(found) = self.anchor(&mut tx, q, r).await? else {
            // Not counted per day after all (the planner checks that first), or the page lies past the end.
            tx.commit().await?;
            return match days::counted_per_day(q, r) {
                true => Ok((PageRows::new(), None)),
                false => Ok((self.offset_page(q, r, source).await?, None)),
            };
        };
        let rows = match &found.action {
            Some((action, then)) => self.by_action_from(&mut tx, q, r, &found, action, then).await?,
            None => {
                let mut b = rows_query("events WHERE seq IN (SELECT seq FROM ");
                b.push(source.sql());
                push_filters(&mut b, q, r);
                push_from_day(&mut b, q, found.day, found.offset, u64::from(q.page_size));
                b.push(")");
                fetch_rows(b, &mut *tx).await?
            }
        };
        tx.commit().await?;
        Ok((rows, Some(found.matching)))
    }

    /// Sorted by action: one action at a time, each walked by equality (an `IN` of actions next to a range
    /// would let SQLite walk actions without matches): the first from the anchor on, then the next ones with
    /// matches from their start, until the page is full.
    async fn by_action_from(
        &self,
        tx: &mut SqliteConnection,
        q: &AuditQuery,
        r: &Resolved,
        found: &Anchor,
        first: &str,
        then: &[String],
    ) -> Result<PageRows, StoreError> {
        let page_size = q.page_size as usize;
        let mut rows = PageRows::with_capacity(page_size);
        let mut skip = found.offset;
        for (i, action) in std::iter::once(first)
            .chain(then.iter().map(String::as_str))
            .enumerate()
        {
            // With the action fixed, any `(column, ts, id)` index gives the order. SQLite cannot tell which walk
            // finds the matches soonest: the action's own index when the action has fewer events than the
            // filter matches, otherwise the filter's.
            let action_events: Option<i64> =
                sqlx::query_scalar("SELECT n FROM value_counts WHERE col = 'action' AND value = ?")
                    .bind(action)
                    .fetch_optional(&mut *tx)
                    .await?;
            // Within a tenant, its own action index holds both.
            let source = match action_events.unwrap_or(0) as u64 <= found.matching || q.tenant.is_some() {
                true => Source::by_action(q),
                false => Source::Table,
            };
            // The walk reads the table's rows for the filters the action index does not hold, so the page's
            // columns come from the same read.
            let mut part = rows_query(source.sql());
            push_filters(&mut part, q, r);
            part.push(" AND action = ").push_bind(action.to_string());
            let limit = (page_size - rows.len()) as u64;
            if i == 0 {
                push_from_day(&mut part, q, found.day, skip, limit);
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
        Ok(rows)
    }

    /// Where the page that skips `q.offset()` rows starts, from the per-day counts: `None` for a query they do
    /// not count, or a page past the last row. Sorted by action: first the action, then the day within it.
    async fn anchor(
        &self,
        conn: &mut SqliteConnection,
        q: &AuditQuery,
        r: &Resolved,
    ) -> Result<Option<Anchor>, StoreError> {
        let split = match q.sort {
            SortKey::Timestamp => Split::ByDay,
            SortKey::Action => Split::ByAction,
        };
        let Some((histogram, _)) = self.histograms.get(conn, q, r, split).await? else {
            return Ok(None);
        };
        let matching = days::total(&histogram);
        let (action, in_days, offset) = match q.sort {
            SortKey::Timestamp => (None, &histogram[..], q.offset()),
            SortKey::Action => {
                let Some((action, rest)) = days::locate_action(&histogram, q.order, q.offset()) else {
                    return Ok(None);
                };
                let then = days::actions_in_order(&histogram, q.order)
                    .into_iter()
                    .skip_while(|a| a != action)
                    .skip(1)
                    .collect();
                let in_days = days::of_action(&histogram, action);
                (Some((action.to_string(), then)), in_days, rest)
            }
        };
        Ok(
            days::locate_day(in_days, q.order, offset).map(|(day, offset, held)| Anchor {
                action,
                day: (day, held),
                offset,
                matching,
            }),
        )
    }

    /// `TextWalk`: the page's rows, found by walking `source` in the page's order through the query's filters
    /// and testing the text on each row, for at most `budget` rows: `None` when those hold too few matches.
    pub(super) async fn walk_for_page(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        source: Source,
        budget: i64,
    ) -> Result<Option<PageRows>, StoreError> {
        let Some(pattern) = r.text.pattern() else {
            return Ok(None);
        };
        // The matches in the walk's order, from the page's first: fewer than a page when the walk ends first.
        let mut b = rows_query("events WHERE seq IN (SELECT seq FROM (SELECT seq, ");
        push_like(&mut b, pattern);
        b.push(" AS hit FROM ").push(source.sql());
        crate::store::filter::push_structured(&mut b, q, r);
        push_order(&mut b, q);
        b.push(" LIMIT ").push_bind(budget);
        b.push(") WHERE hit LIMIT ").push_bind(i64::from(q.page_size));
        b.push(" OFFSET ").push_bind(q.offset() as i64).push(")");
        let rows = fetch_rows(b, &self.read).await?;
        Ok((rows.len() == q.page_size as usize).then_some(rows))
    }
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
