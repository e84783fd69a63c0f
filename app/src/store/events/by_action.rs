//! `TextByAction`: a page sorted by action of a search through the index, which holds every filter of the
//! query: with more than 10,000 matches, or next to filters with more than `Tuning::small_set` (a smaller set,
//! or one of free text alone, is read and sorted whole).
//!
//! A first page of free text alone first walks the action index testing the text, for at most
//! `Tuning::action_walk_rows` events: enough when the term is common in the first action of the order.
//! Otherwise (and always next to filters, whose rows bunch in some actions: walking the action index for
//! `q=zoe&outcome=failure` read 5 s of other actions at 10M) the page goes one action at a time, over the
//! actions that have rows matching the filters (from the per-day counts): the index counts the action's
//! matches (FTS5, with the action's tag), no further than the rows the page still skips, so that the page
//! skips whole actions; within its action the page is read in time order block by block (`fill_by_blocks`).
//! The counts are remembered with the index's mark (`count_indexed`); a set gives them all from one read of
//! its rows (`count_set_by_action`).

use super::rows::{PageFill, rows_query};
use crate::{
    model::{AuditQuery, SortKey, SortOrder},
    store::{
        days::{self, Split},
        error::StoreError,
        filter::{Resolved, Source, push_like, push_order, push_structured},
        fulltext::{self, count_set_by_action},
        handle::AuditStore,
        schema::PageRows,
    },
};

impl AuditStore {
    pub(super) async fn text_page_by_action(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        walk_first: bool,
    ) -> Result<PageRows, StoreError> {
        let Some((expr, through, pattern)) = r.text.exact_query() else {
            return Ok(PageRows::new());
        };
        if walk_first
            && let Some(rows) = self
                .walk_for_page(q, r, Source::by_action(q), self.tuning.action_walk_rows)
                .await?
        {
            return Ok(rows);
        }
        let mut actions = Vec::new();
        for action in self.actions_with_rows(q, r).await? {
            let with_action = fulltext::with_action(self, expr, &action).await?;
            actions.push((action, with_action));
        }
        if let Some(set) = r.text.exact_set() {
            count_set_by_action(self, set, through, &actions).await?;
        }
        let mut page = PageFill::new(q);
        for (action, expr) in actions {
            let within = AuditQuery {
                actions: vec![action],
                sort: SortKey::Timestamp,
                ..q.clone()
            };
            // The action's matches, no more than the page skips and one: indexed, then above the index.
            let cap = page.skip as i64 + 1;
            let indexed = fulltext::count_indexed(self, &expr, through, cap, (&within, r, pattern)).await?;
            let unindexed = fulltext::unindexed_count(self, &within, r, through, pattern, cap).await?;
            if page.skips((indexed + unindexed) as u64) {
                continue;
            }
            let full = match self
                .fill_by_blocks(&within, r, (&expr, through, pattern), &mut page)
                .await?
            {
                Some(full) => full,
                None => {
                    // Events far from their time: the action's events in its index's order, testing the text.
                    let mut b = rows_query(Source::by_action(q).sql());
                    push_structured(&mut b, &within, r);
                    b.push(" AND ");
                    push_like(&mut b, pattern);
                    push_order(&mut b, q);
                    page.take(b, &self.read).await?
                }
            };
            if full {
                break;
            }
        }
        Ok(page.rows)
    }

    /// The actions with events that match the query's filters besides its text, in the query's order: from the
    /// per-day counts by action when they count those filters, otherwise every action ever stored (or the
    /// query's own).
    async fn actions_with_rows(&self, q: &AuditQuery, r: &Resolved) -> Result<Vec<String>, StoreError> {
        let structured = AuditQuery { q: None, ..q.clone() };
        let mut conn = self.read.acquire().await?;
        let histogram = self
            .histograms
            .get(&mut conn, &structured, &r.without_text(), Split::ByAction)
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
}
