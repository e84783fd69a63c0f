//! Events: insert (idempotent, all or nothing), list (filtered, sorted, paged), get, facets.
//!
//! A page is read in three steps: gather the facts a plan is chosen by (`plan::AuditStore::gather`), choose
//! the plan (`plan::choose`, which reads nothing), run it (`read`, `blocks`, `by_action`); then the total.

mod blocks;
mod by_action;
mod count;
mod plan;
mod read;
mod rows;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};

use self::{
    plan::{choose, reversed_query},
    rows::{cursor_at, sort_in_page_order},
};
use super::{
    error::StoreError,
    filter::Resolved,
    handle::AuditStore,
    prepared::{Row, prepare},
    schema::{PageRows, StoredEvent, WHO, full_columns, now_millis},
};
use crate::model::{
    AuditQuery, Event, EventPage, EventRow, Facets, FieldError, NewEvent, RecordedBy, ValidEvent,
    event::category_of,
    page::{ActionCount, ActorFacet, CategoryFacet},
};

pub use plan::PagePlan;

/// What an insert did: how many rows are new, how many ids were already stored, and every id in input order.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct InsertOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub ids: Vec<String>,
}

/// Validated events made ready to store: ids given, times decided, leaves hashed. Hashing costs a few
/// microseconds an event; done here, on the caller's thread, it is not the writer's.
pub struct Prepared(Vec<Row>);

impl Prepared {
    /// The events, received now.
    pub fn new(events: Vec<ValidEvent>) -> Self {
        Prepared(prepare(events, now_millis()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AuditStore {
    /// Validates and stores one event, recorded by the product itself: the recorder a host app calls in
    /// process. Errors name the field (`actor.type`).
    pub async fn record(&self, event: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.record_by(event, RecordedBy::system()).await
    }

    /// `record`, recorded by `by` (the token or session the event came through).
    pub async fn record_by(&self, event: NewEvent, by: RecordedBy) -> Result<InsertOutcome, StoreError> {
        let mut valid = event.validate()?;
        valid.recorded_by = by;
        self.insert_valid(vec![valid]).await
    }

    /// Validates every event, then stores them all in one transaction, or none when one is invalid, recorded
    /// by the product itself. The error's field names the index: `events[3].actor.type`.
    pub async fn record_batch(&self, events: Vec<NewEvent>) -> Result<InsertOutcome, StoreError> {
        self.record_batch_by(events, RecordedBy::system()).await
    }

    /// `record_batch`, recorded by `by`.
    pub async fn record_batch_by(&self, events: Vec<NewEvent>, by: RecordedBy) -> Result<InsertOutcome, StoreError> {
        let valid = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let mut valid = e.validate().map_err(|err| err.under(&format!("events[{i}]")))?;
                valid.recorded_by = by.clone();
                Ok(valid)
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        self.insert_valid(valid).await
    }

    /// Stores validated events (each recorded by its `recorded_by`) in one transaction. An id that is already
    /// stored (or repeated in the batch) is counted as a duplicate and not stored again. Returns only after
    /// the commit.
    pub async fn insert_valid(&self, events: Vec<ValidEvent>) -> Result<InsertOutcome, StoreError> {
        self.insert_prepared(Prepared::new(events)).await
    }

    /// `insert_valid` of events prepared beforehand (an import prepares on its reading thread).
    pub async fn insert_prepared(&self, Prepared(rows): Prepared) -> Result<InsertOutcome, StoreError> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let accepted = self.writer.insert(rows).await?;
        let total = ids.len() as u64;
        Ok(InsertOutcome {
            accepted,
            duplicates: total - accepted,
            ids,
        })
    }

    /// One page of rows. With a cursor, the page continues after it (keyset); otherwise `page` counts from 1.
    pub async fn list(&self, q: &AuditQuery) -> Result<EventPage, StoreError> {
        let _gate = self.purge_gate.read().await;
        let q = &*self.plain(q).await?;
        let started = Instant::now();
        let (resolved, stats) = self.gather(q).await?;
        let _turn = self.scan_turn(&resolved.text).await;
        let plan = choose(q, &resolved, &stats, &self.tuning);
        let chosen = started.elapsed();
        let (entries, next_cursor, counted) = match &plan {
            PagePlan::FromEnd { total, rows, reversed } => {
                self.page_from_the_end(q, &resolved, (*total, *rows), reversed).await?
            }
            plan => {
                let (mut rows, counted) = self.run(plan, q, &resolved).await?;
                sort_in_page_order(&mut rows, q);
                let (entries, next_cursor) = page_of(q, rows);
                (entries, next_cursor, counted)
            }
        };
        let (total, total_is_lower_bound) = match stats.exact_total.or(counted) {
            Some(total) => (total, false),
            None => self.total(q, &resolved).await?,
        };
        tracing::debug!(
            plan = ?plan,
            query = %q.to_query_string(),
            gather_and_choose_us = chosen.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "list"
        );
        Ok(EventPage {
            entries,
            total,
            total_is_lower_bound,
            page: q.page,
            page_size: q.page_size,
            next_cursor,
        })
    }

    /// Runs a plan (and what it gives way to, when it does): the page's rows in no particular order, and the
    /// total when the plan learnt it in the rows' snapshot.
    async fn run(&self, plan: &PagePlan, q: &AuditQuery, r: &Resolved) -> Result<(PageRows, Option<u64>), StoreError> {
        let mut plan = plan;
        loop {
            let rows = match plan {
                PagePlan::Keyset { source } => self.keyset_page(q, r, *source).await?,
                PagePlan::Offset { source } => self.offset_page(q, r, *source).await?,
                PagePlan::Anchored { source } => return self.anchored_page(q, r, *source).await,
                PagePlan::AnchoredByAction => {
                    return self.anchored_page(q, r, super::filter::Source::Table).await;
                }
                PagePlan::TextSet => self.set_page(q, r).await?,
                PagePlan::TextByAction { walk_first } => self.text_page_by_action(q, r, *walk_first).await?,
                PagePlan::TextWalk {
                    source,
                    budget,
                    otherwise,
                } => match self.walk_for_page(q, r, *source, *budget).await? {
                    Some(rows) => rows,
                    None => {
                        plan = otherwise;
                        continue;
                    }
                },
                PagePlan::TextBlocks { otherwise } => match self.deep_text_page(q, r).await? {
                    Some(rows) => rows,
                    None => {
                        plan = otherwise;
                        continue;
                    }
                },
                PagePlan::FromEnd { reversed, .. } => {
                    plan = reversed;
                    continue;
                }
            };
            return Ok((rows, None));
        }
    }

    /// `FromEnd`: the rows from this page's first to the last, read as the first rows of the opposite order;
    /// this page is the first `page_size` of them, turned around.
    async fn page_from_the_end(
        &self,
        q: &AuditQuery,
        r: &Resolved,
        (total, to_the_end): (u64, u32),
        reversed: &PagePlan,
    ) -> Result<(Vec<EventRow>, Option<String>, Option<u64>), StoreError> {
        let rq = reversed_query(q, to_the_end);
        let (mut rows, _) = self.run(reversed, &rq, r).await?;
        sort_in_page_order(&mut rows, &rq);
        rows.reverse();
        rows.truncate(q.page_size as usize);
        let (entries, next_cursor) = page_of(q, rows);
        Ok((entries, next_cursor, Some(total)))
    }

    /// The total of a page whose plan did not learn it: a search's stops at `TEXT_COUNT_CAP` unless counted
    /// exactly. Returns it and whether it is only a lower bound.
    async fn total(&self, q: &AuditQuery, r: &Resolved) -> Result<(u64, bool), StoreError> {
        if q.q.is_some() {
            return self.search_total(q, r).await;
        }
        Ok((self.count_with(q, r).await?, false))
    }

    /// The events with these ids, whole, in the order of `ids` (an id not stored is left out): a page of the
    /// list as scripts read it (`fields=full`), in one query.
    pub async fn get_many(&self, ids: &[String]) -> Result<Vec<Event>, StoreError> {
        let sql = format!(
            "SELECT {} FROM events WHERE id IN (SELECT value FROM json_each(?))",
            full_columns()
        );
        let list = serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let rows: Vec<StoredEvent> = sqlx::query_as(&sql).bind(list).fetch_all(&self.read).await?;
        let mut events = rows
            .into_iter()
            .map(StoredEvent::decode)
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|e| ids.iter().position(|id| *id == e.id));
        Ok(events)
    }

    /// One event, whole.
    pub async fn get(&self, id: &str) -> Result<Event, StoreError> {
        self.get_within(id, None).await
    }

    /// One whole event, as a caller bound to `tenant` may see it: another tenant's event is `NotFound`, as an
    /// event that does not exist is (no probing for what other tenants have).
    pub async fn get_within(&self, id: &str, tenant: Option<&str>) -> Result<Event, StoreError> {
        let sql = format!("SELECT {} FROM events WHERE id = ?", full_columns());
        let row: StoredEvent = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        if tenant.is_some_and(|t| row.tenant.as_deref() != Some(t)) {
            return Err(StoreError::NotFound);
        }
        row.decode()
    }

    /// What the filter menus offer a caller bound to `tenant` (or to the whole log, `None`): actions by
    /// category with counts, target types, sources, busiest actors, and (for the whole log) the tenants. From
    /// the totals per value, or the tenant's cube (a few rows per active day); never from all the events.
    pub async fn facets(&self, tenant: Option<&str>) -> Result<Facets, StoreError> {
        let (actions, target_types, sources, actors, tenants) = match tenant {
            None => {
                let values = |col: &'static str| {
                    sqlx::query_scalar("SELECT value FROM value_counts WHERE col = ? AND n > 0 ORDER BY value")
                        .bind(col)
                        .fetch_all(&self.read)
                };
                let actions: Vec<(String, i64)> =
                    sqlx::query_as("SELECT value, n FROM value_counts WHERE col = 'action' AND n > 0 ORDER BY value")
                        .fetch_all(&self.read)
                        .await?;
                let actors: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT value, n FROM value_counts WHERE col = 'actor' AND n > 0 \
                     ORDER BY n DESC, value LIMIT 50",
                )
                .fetch_all(&self.read)
                .await?;
                let (target_types, sources) = (values("target_type").await?, values("source").await?);
                (actions, target_types, sources, actors, values("tenant").await?)
            }
            Some(t) => {
                // One read of the tenant's cube: its combinations of action, target type and source.
                let combos: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT action, target_type, source, SUM(n) FROM tenant_day_cube WHERE tenant = ? \
                     GROUP BY 1, 2, 3 HAVING SUM(n) > 0",
                )
                .bind(t)
                .fetch_all(&self.read)
                .await?;
                let mut actions: BTreeMap<String, i64> = BTreeMap::new();
                let (mut target_types, mut sources) = (BTreeSet::new(), BTreeSet::new());
                for (action, target_type, source, n) in combos {
                    *actions.entry(action).or_default() += n;
                    target_types.extend((!target_type.is_empty()).then_some(target_type));
                    sources.insert(source);
                }
                // Counted through the index of a tenant's actors (migration 21): no table keeps their totals.
                let actors: Vec<(String, i64)> = sqlx::query_as(&format!(
                    "SELECT {WHO} AS who, COUNT(*) FROM events WHERE tenant = ? GROUP BY who \
                     ORDER BY 2 DESC, 1 LIMIT 50"
                ))
                .bind(t)
                .fetch_all(&self.read)
                .await?;
                let actions = actions.into_iter().collect();
                let (target_types, sources) = (target_types.into_iter().collect(), sources.into_iter().collect());
                (actions, target_types, sources, actors, Vec::new())
            }
        };
        Ok(Facets {
            categories: self.categories(actions),
            target_types,
            sources,
            actors: actors
                .into_iter()
                .map(|(actor, n)| ActorFacet { actor, count: n as u64 })
                .collect(),
            tenants,
        })
    }

    /// Actions with their counts (sorted by action) grouped by category, with the catalog's labels.
    fn categories(&self, actions: Vec<(String, i64)>) -> Vec<CategoryFacet> {
        let mut categories: Vec<CategoryFacet> = Vec::new();
        for (action, count) in actions {
            let category = category_of(&action).to_string();
            let entry = ActionCount {
                label: self.catalog.action_label(&action).map(str::to_string),
                action,
                count: count as u64,
            };
            match categories.last_mut() {
                Some(c) if c.category == category => c.actions.push(entry),
                _ => categories.push(CategoryFacet {
                    label: self.catalog.category_label(&category).map(str::to_string),
                    category,
                    actions: vec![entry],
                }),
            }
        }
        categories.sort_by(|a, b| a.category.cmp(&b.category));
        categories
    }
}

/// A page's rows in order, and the cursor after the last when the page is full (even the last page: the next
/// is then empty).
fn page_of(q: &AuditQuery, rows: PageRows) -> (Vec<EventRow>, Option<String>) {
    let next_cursor = match rows.last() {
        Some((millis, last)) if rows.len() == q.page_size as usize => {
            Some(cursor_at(q, &last.action, *millis, &last.id).encode())
        }
        _ => None,
    };
    (rows.into_iter().map(|(_, row)| row).collect(), next_cursor)
}
