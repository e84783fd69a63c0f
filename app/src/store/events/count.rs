//! Totals. Structured filters are counted once (from the per-day counts when they hold the filters, else
//! through the filter's index) and then only for the rows inserted since (`caches`); a search is counted
//! through the index when it holds every filter, block by block in a time range, else with LIKE.

use std::time::{Duration, Instant};

use sqlx::QueryBuilder;

use crate::{
    model::{AuditQuery, query::TEXT_COUNT_CAP},
    store::{
        days::{self, Split},
        error::StoreError,
        filter::{Resolved, push_filters},
        fulltext::{self, indexed_total},
        handle::AuditStore,
        schema::block_span,
        sql::json_rows,
    },
};

/// The count cache's key for the total of `q`'s filters.
pub(super) fn count_key(q: &AuditQuery) -> String {
    q.filters_key()
}

impl AuditStore {
    /// How many events match the filters. Structured filters are counted incrementally (see `caches`); a
    /// free-text search is counted afresh.
    pub async fn count(&self, q: &AuditQuery) -> Result<u64, StoreError> {
        let _gate = self.purge_gate.read().await;
        let q = &*self.plain(q).await?;
        if q.is_unfiltered() {
            return self.count_with(q, &Resolved::default()).await;
        }
        let resolved = self.resolve(q).await?;
        let _turn = self.scan_turn(&resolved.text).await;
        self.count_with(q, &resolved).await
    }

    /// How many events match, counting no further than `cap + 1`.
    pub async fn count_capped(&self, q: &AuditQuery, cap: u64) -> Result<u64, StoreError> {
        let _gate = self.purge_gate.read().await;
        let q = &*self.plain(q).await?;
        let resolved = self.resolve(q).await?;
        let _turn = self.scan_turn(&resolved.text).await;
        self.count_capped_with(q, &resolved, cap).await
    }

    /// `count`, with the query's filters already resolved (`list` resolves once for its rows and its total).
    pub(super) async fn count_with(&self, q: &AuditQuery, r: &Resolved) -> Result<u64, StoreError> {
        if q.is_unfiltered() {
            let n: i64 = sqlx::query_scalar("SELECT n FROM event_count WHERE id = 1")
                .fetch_one(&self.read)
                .await?;
            return Ok(n as u64);
        }
        if q.q.is_some() {
            return self.count_text(q, r, i64::MAX).await;
        }
        let key = count_key(q);
        let (known, through) = self.counts.get(&key).unwrap_or((0, -1));
        if through < 0
            && let Some((total, head)) = self.count_by_days(q, r).await?
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
            QueryBuilder::new(format!("SELECT COUNT(*) FROM {}", r.table(q).sql()))
        } else {
            // Since last time: only the rows above the known point, by rowid range.
            QueryBuilder::new("SELECT COUNT(*) FROM events NOT INDEXED")
        };
        push_filters(&mut b, q, r);
        if through >= 0 {
            b.push(" AND seq > ").push_bind(through);
        }
        b.push(" AND +seq <= ").push_bind(head);
        let added: i64 = b.build_query_scalar().fetch_one(&self.read).await?;
        let total = known + added as u64;
        self.counts.put(key, total, head);
        Ok(total)
    }

    /// A search's count, up to `cap` past which it may stop: through the index, by blocks, or with LIKE.
    async fn count_text(&self, q: &AuditQuery, r: &Resolved, cap: i64) -> Result<u64, StoreError> {
        Ok(self.count_text_within(q, r, cap, None).await?.0)
    }

    /// `count_text`; with a `budget`, a count with LIKE stops once it has taken that long, and the second value
    /// says that the first is then only a lower bound.
    async fn count_text_within(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        cap: i64,
        budget: Option<Duration>,
    ) -> Result<(u64, bool), StoreError> {
        if let Some(n) = indexed_total(self, q, r, cap).await? {
            return Ok((n, false));
        }
        if let Some(n) = self.count_by_blocks(q, r, cap).await? {
            return Ok((n, false));
        }
        if let Some(budget) = budget {
            return self.count_scan(q, r, cap, budget).await;
        }
        Ok((self.count_rows(q, r, None, cap).await? as u64, false))
    }

    /// How many rows match `q` (in the window of row ids `(after, upto]`, when given), counting no further than
    /// `cap`. The table as the query reads it: SQLite takes a window by row id, or a selective filter's index
    /// with the window as a condition.
    async fn count_rows(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        window: Option<(i64, i64)>,
        cap: i64,
    ) -> Result<i64, StoreError> {
        let mut b = QueryBuilder::new(format!("SELECT COUNT(*) FROM (SELECT 1 FROM {}", r.table(q).sql()));
        push_filters(&mut b, q, r);
        if let Some((after, upto)) = window {
            b.push(" AND seq > ").push_bind(after);
            b.push(" AND seq <= ").push_bind(upto);
        }
        if cap < i64::MAX {
            b.push(" LIMIT ").push_bind(cap);
        }
        b.push(")");
        Ok(b.build_query_scalar().fetch_one(&self.read).await?)
    }

    /// A search counted with LIKE by windows of `Tuning::scan_window_rows` row ids, newest first, up to `cap`,
    /// until `budget` has passed: then what it counted is a lower bound (the second value is true).
    async fn count_scan(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        cap: i64,
        budget: Duration,
    ) -> Result<(u64, bool), StoreError> {
        let started = Instant::now();
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.read)
            .await?;
        let (mut upto, mut n) = (head, 0);
        while upto > 0 && n < cap {
            // At least one window, however short the budget: the newest rows, those the first page shows.
            if upto < head && started.elapsed() >= budget {
                return Ok((n as u64, true));
            }
            let after = (upto - self.tuning.scan_window_rows.max(1)).max(0);
            n += self.count_rows(q, r, Some((after, upto)), cap - n).await?;
            upto = after;
        }
        Ok((n as u64, false))
    }

    /// How many rows match, counting no further than `cap + 1` (a search's total shown as "10,000+").
    pub(super) async fn count_capped_with(&self, q: &AuditQuery, r: &Resolved, cap: u64) -> Result<u64, StoreError> {
        self.count_text(q, r, (cap + 1) as i64).await
    }

    /// A search's total as the list shows it: up to `TEXT_COUNT_CAP` (or every match, `count=exact`), counted
    /// for at most `Tuning::scan_budget` where the index cannot count it; true when it is a lower bound.
    pub(super) async fn search_total(&self, q: &AuditQuery, r: &Resolved) -> Result<(u64, bool), StoreError> {
        let cap = match q.exact_count {
            true => i64::MAX,
            false => TEXT_COUNT_CAP as i64 + 1,
        };
        let (n, partial) = self.count_text_within(q, r, cap, Some(self.tuning.scan_budget)).await?;
        match q.exact_count {
            true => Ok((n, partial)),
            false => Ok((n.min(TEXT_COUNT_CAP), partial || n > TEXT_COUNT_CAP)),
        }
    }

    /// The total of a query whose filters are counted per day (see `days`), with the `seq` it is exact through,
    /// read in one transaction. `None` for other queries.
    async fn count_by_days(&self, q: &AuditQuery, r: &Resolved) -> Result<Option<(u64, i64)>, StoreError> {
        let mut tx = self.read.begin().await?;
        let days = self.histograms.get(&mut tx, q, r, Split::ByDay).await?;
        tx.commit().await?;
        Ok(days.map(|(days, head)| (days::total(&days), head)))
    }

    /// The count, up to `cap`, of a search in a time range through the index, which holds every other filter
    /// (`TextPlan::timed_query`), by blocks of 4,096 row ids: the index counts the blocks whose times lie
    /// inside the range, in runs of up to `Tuning::max_count_blocks`, and LIKE tests the rows of the blocks at
    /// its ends (and those not yet indexed). Counting every row of the range with LIKE read 90,000 rows to
    /// reach 10,001 matches of a common term (`q=zoe&from=…&to=…`: 66 ms at 10M). `None` for other searches.
    async fn count_by_blocks(&self, q: &AuditQuery, r: &Resolved, cap: i64) -> Result<Option<u64>, StoreError> {
        let Some((expr, through, pattern)) = r.text.timed_query() else {
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
        let inside =
            |&(block, min, max): &(i64, i64, i64)| min >= from && max <= to && block_span(block, block).1 <= through;
        let mut n = 0i64;
        let mut rest = blocks.as_slice();
        while let Some(first) = rest.first()
            && n < cap
        {
            // A run of neighbouring blocks inside the range, counted by the index; or one block at an end.
            let run = if inside(first) {
                rest.iter()
                    .take(self.tuning.max_count_blocks as usize)
                    .enumerate()
                    .take_while(|&(i, b)| inside(b) && b.0 == first.0 + i as i64)
                    .count()
            } else {
                1
            };
            let (lo, hi) = block_span(first.0, rest[run - 1].0);
            n += if inside(first) {
                fulltext::fts_count(self, expr, (lo - 1, hi), cap - n).await?
            } else {
                fulltext::like_count(self, q, r, (lo - 1, Some(hi)), pattern, cap - n).await?
            };
            rest = &rest[run..];
        }
        Ok(Some(n as u64))
    }
}
