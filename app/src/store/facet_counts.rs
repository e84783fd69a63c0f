//! Live counts for the filter menus: for each option of Action, Verb, Actor type, Target type and Source, how
//! many events it would give with the other filters as they are. Read from the per-day cubes the writer keeps
//! (`day_cube`, `actor_day_cube`, `tenant_day_cube`: a few thousand combinations of the counted columns a day),
//! collapsed over the
//! query's whole days, plus the events of its partial first and last days; then each menu is summed in memory
//! from the combinations the other filters keep.

use std::{collections::BTreeMap, sync::Arc};

use sqlx::QueryBuilder;

use super::{
    caches::Combo,
    error::StoreError,
    filter::{MAX_BOUND_LIST, push_ips},
    handle::AuditStore,
    schema::{DAY_MS, WHO, day_cube, whole_days},
    sql::SqlSink,
};
use crate::model::{
    AuditQuery, FacetCounts,
    event::{category_of, verb_of},
    query::Filters,
    time,
};

/// The combinations of the counted columns among events, counted: completed with `FROM <table> WHERE …`.
const EVENT_COMBOS: &str =
    "SELECT action, outcome, actor_type, COALESCE(target_type, '') AS target_type, source, COUNT(*) AS n FROM";

const GROUPED: &str = " GROUP BY action, outcome, actor_type, target_type, source";

/// The log's last row id, read in the snapshot of the statement it is part of.
const HEAD: &str = "(SELECT COALESCE(MAX(seq), 0) FROM events)";

/// `EVENT_COMBOS` with the log's last row id in each row (`Counted`).
fn kept_event_combos() -> String {
    let columns = EVENT_COMBOS.strip_suffix(" FROM").unwrap_or(EVENT_COMBOS);
    format!("{columns}, {HEAD} AS last FROM")
}

/// A combination as read with the last row id of the snapshot it was read in.
#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    combo: Combo,
    last: i64,
}

/// What `kept_combos` reads and remembers: a cube's whole days `first..end` (open when `None`), or the events
/// from `lo` to `hi` (inclusive, Unix ms; open when `None`) of a slice no cube holds.
#[derive(Clone, Copy, Debug)]
enum Kept<'a> {
    Cube(&'a str, Option<i64>, Option<i64>),
    Events(Option<i64>, Option<i64>),
}

impl Kept<'_> {
    /// What the combinations of `self` in `slice` are remembered under (`AuditStore::cubes`).
    fn key(self, slice: Slice<'_>) -> String {
        format!("{self:?}/{slice:?}")
    }

    /// The first and last instant covered (inclusive, Unix ms).
    fn times(self) -> (i64, i64) {
        match self {
            Kept::Cube(_, first, end) => (
                first.map_or(i64::MIN, |d| d.saturating_mul(DAY_MS)),
                end.map_or(i64::MAX, |d| d.saturating_mul(DAY_MS) - 1),
            ),
            Kept::Events(lo, hi) => (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX)),
        }
    }
}

/// The events a menu counts among, besides their time: all of them, an actor's, a tenant's, an address
/// range's, or of two of those (which no cube holds: counted from the events).
#[derive(Clone, Copy, Debug)]
struct Slice<'a> {
    whos: Option<&'a [String]>,
    tenant: Option<&'a str>,
    ips: Option<&'a [String]>,
}

impl Slice<'_> {
    /// The cube that holds the slice's whole days, if one does.
    fn cube(&self) -> Option<&'static str> {
        day_cube([self.whos.is_some(), self.tenant.is_some(), self.ips.is_some()])
    }

    /// ` AND …` keeping the slice's rows: of the cube (`who`, `tenant`, `ip`), or of the events (`WHO`,
    /// `tenant`, `ip`).
    fn push(&self, b: &mut impl SqlSink, in_cube: bool) {
        if let Some(whos) = self.whos {
            let who = if in_cube { "who" } else { WHO };
            b.sql(&format!(" AND {who} IN ")).texts(whos);
        }
        if let Some(t) = self.tenant {
            b.sql(" AND tenant = ").text(t.to_string());
        }
        if let Some(ips) = self.ips {
            push_ips(b, ips);
        }
    }
}

/// The menu a count is for: its own filter is left out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Menu {
    Action,
    Verb,
    ActorType,
    TargetType,
    Source,
}

impl AuditStore {
    /// The menus' counts for `q`'s other filters; `None` for a search, a target id, an excluded actor or an IP
    /// range of more than `MAX_BOUND_LIST` stored addresses, which the cubes do not hold, and for more than
    /// `Tuning::live_count_rows` events of two keys at once (the menus then show no counts).
    pub async fn facet_counts(&self, q: &AuditQuery) -> Result<Option<FacetCounts>, StoreError> {
        if q.q.is_some() || q.target_id.is_some() || q.exclude_actor.is_some() {
            return Ok(None);
        }
        let _gate = self.purge_gate.read().await;
        let (whos, ips) = match q.actor.is_some() || q.ip.is_some() {
            true => {
                let r = self.resolve(q).await?;
                let whos = q.actor.as_ref().map(|_| r.actor.map(|a| a.whos).unwrap_or_default());
                (whos, r.ips)
            }
            false => (None, None),
        };
        if ips.as_ref().is_some_and(|ips| ips.len() > MAX_BOUND_LIST) {
            return Ok(None);
        }
        let (lo, hi) = time_bounds(q);
        let slice = Slice {
            whos: whos.as_deref(),
            tenant: q.tenant.as_deref(),
            ips: ips.as_deref(),
        };
        let Some(combos) = self.combos(lo, hi, slice).await? else {
            return Ok(None);
        };
        let mut counts = FacetCounts::default();
        for c in &combos {
            let n = c.n.max(0) as u64;
            let add = |menu: Menu, map: &mut BTreeMap<String, u64>, key: &str| {
                if !key.is_empty() && keeps(q, c, menu) {
                    *map.entry(key.to_string()).or_default() += n;
                }
            };
            add(Menu::Action, &mut counts.actions, &c.action);
            add(Menu::Verb, &mut counts.verbs, verb_of(&c.action));
            add(Menu::ActorType, &mut counts.actor_types, &c.actor_type);
            add(Menu::TargetType, &mut counts.target_types, &c.target_type);
            add(Menu::Source, &mut counts.sources, &c.source);
        }
        Ok(Some(counts))
    }

    /// The combinations of the slice's events from `lo` to `hi` (inclusive, Unix ms; open when `None`): whole
    /// days from the slice's cube, partial days (and a slice no cube holds) from the events.
    async fn combos(
        &self,
        lo: Option<i64>,
        hi: Option<i64>,
        slice: Slice<'_>,
    ) -> Result<Option<Vec<Combo>>, StoreError> {
        let (first_day, end_day) = whole_days(lo, hi);
        let Some(cube) = slice.cube() else {
            let events = Kept::Events(lo, hi);
            if !self.few_enough(events, slice).await? {
                return Ok(None);
            }
            return self.kept_combos(events, slice).await.map(Some);
        };
        if let (Some(a), Some(b)) = (first_day, end_day)
            && a >= b
        {
            return self.event_combos(lo, hi, slice).await.map(Some);
        }
        let mut combos = self.kept_combos(Kept::Cube(cube, first_day, end_day), slice).await?;
        if let (Some(lo), Some(day)) = (lo, first_day)
            && lo < day * DAY_MS
        {
            combos.extend(self.event_combos(Some(lo), Some(day * DAY_MS - 1), slice).await?);
        }
        if let (Some(hi), Some(day)) = (hi, end_day)
            && hi >= day * DAY_MS
        {
            combos.extend(self.event_combos(Some(day * DAY_MS), Some(hi), slice).await?);
        }
        Ok(Some(combos))
    }

    /// True when the slice's events in `what` are few enough to group from their rows
    /// (`Tuning::live_count_rows`), or were grouped already (and are remembered): counted through the
    /// slice's index, no further than that. Too many is remembered as a count (events only leave in a purge,
    /// which forgets every count).
    async fn few_enough(&self, what: Kept<'_>, slice: Slice<'_>) -> Result<bool, StoreError> {
        let key = what.key(slice);
        if self.cubes.get(&key).is_some() {
            return Ok(true);
        }
        let limit = self.tuning.live_count_rows;
        let too_many = format!("live>{key}");
        if self.counts.get(&too_many).is_some_and(|(n, _)| n as i64 > limit) {
            return Ok(false);
        }
        let (lo, hi) = what.times();
        let mut b = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE ts >= ");
        b.int(lo).sql(" AND ts <= ").int(hi);
        slice.push(&mut b, false);
        b.push(" LIMIT ").int(limit + 1).sql(")");
        let n: i64 = b.build_query_scalar().fetch_one(&self.read).await?;
        if n > limit {
            self.counts.raise(too_many, n as u64, 0);
        }
        Ok(n <= limit)
    }

    /// The combinations of `what`: remembered with the last row id they cover, so that a repeat adds only the
    /// events inserted since. Each read is one statement, which also reads that row id in its own snapshot, so
    /// that no event is counted twice or missed (and no transaction is left open by a request its client gave
    /// up on).
    async fn kept_combos(&self, what: Kept<'_>, slice: Slice<'_>) -> Result<Vec<Combo>, StoreError> {
        let key = what.key(slice);
        let (mut combos, since) = match self.cubes.get(&key) {
            Some((kept, through)) => (kept.as_ref().clone(), Some(through)),
            None => (Vec::new(), None),
        };
        let rows = kept_statement(what, slice, since)
            .build_query_as::<Counted>()
            .fetch_all(&self.read)
            .await?;
        let last = rows.iter().map(|r| r.last).max().unwrap_or(0);
        combos.extend(rows.into_iter().map(|r| r.combo).filter(|c| !c.action.is_empty()));
        let merged = merge(combos);
        self.cubes.update(&key, |kept| {
            if kept.as_ref().is_none_or(|(_, through)| *through < last) {
                *kept = Some((Arc::new(merged.clone()), last));
            }
        });
        Ok(merged)
    }

    async fn event_combos(&self, lo: Option<i64>, hi: Option<i64>, slice: Slice<'_>) -> Result<Vec<Combo>, StoreError> {
        let mut b = QueryBuilder::new(format!("{EVENT_COMBOS} events WHERE ts >= "));
        b.int(lo.unwrap_or(i64::MIN))
            .sql(" AND ts <= ")
            .int(hi.unwrap_or(i64::MAX));
        slice.push(&mut b, false);
        b.push(GROUPED);
        Ok(b.build_query_as::<Combo>().fetch_all(&self.read).await?)
    }
}

/// The statement `kept_combos` reads `what` in `slice` with: the combinations of the events inserted after
/// row `since` when some are kept, else of the whole cube's days or of the slice's events; each row with the
/// log's last row id, and one row of no combination so that the last row id is read also when nothing matched.
fn kept_statement(what: Kept<'_>, slice: Slice<'_>, since: Option<i64>) -> QueryBuilder<'static, sqlx::Sqlite> {
    let (lo, hi) = what.times();
    let mut b = match (since, what) {
        // Only the events inserted since, in those times: by row id (an actor's or a tenant's index would
        // read all of its events).
        (Some(through), _) => {
            let mut b = QueryBuilder::new(format!("{} events NOT INDEXED WHERE seq > ", kept_event_combos()));
            b.int(through);
            b.push(" AND ts >= ").int(lo);
            b.push(" AND ts <= ").int(hi);
            b
        }
        // The whole cube of those days.
        (None, Kept::Cube(cube, first_day, end_day)) => {
            let mut b = QueryBuilder::new(format!(
                "SELECT action, outcome, actor_type, target_type, source, SUM(n) AS n, {HEAD} AS last \
                 FROM {cube} WHERE day >= "
            ));
            b.int(first_day.unwrap_or(i64::MIN / DAY_MS))
                .sql(" AND day < ")
                .int(end_day.unwrap_or(i64::MAX / DAY_MS));
            b
        }
        // A slice no cube holds: its events.
        (None, Kept::Events(..)) => {
            let mut b = QueryBuilder::new(format!("{} events WHERE ts >= ", kept_event_combos()));
            b.int(lo).sql(" AND ts <= ").int(hi);
            b
        }
    };
    slice.push(&mut b, since.is_none() && matches!(what, Kept::Cube(..)));
    b.push(GROUPED);
    b.push(format!(" UNION ALL SELECT '', '', '', '', '', 0, {HEAD}"));
    b
}

/// Adds up the events of equal combinations.
fn merge(combos: Vec<Combo>) -> Vec<Combo> {
    let mut sums: BTreeMap<(String, String, String, String, String), i64> = BTreeMap::new();
    for c in combos {
        *sums
            .entry((c.action, c.outcome, c.actor_type, c.target_type, c.source))
            .or_default() += c.n;
    }
    sums.into_iter()
        .map(|((action, outcome, actor_type, target_type, source), n)| Combo {
            action,
            outcome,
            actor_type,
            target_type,
            source,
            n,
        })
        .collect()
}

/// The first and last instant `q` covers (inclusive).
fn time_bounds(q: &AuditQuery) -> (Option<i64>, Option<i64>) {
    let now = time::to_millis(chrono::Utc::now());
    (q.first_instant(now), q.to.as_ref().map(|t| t.millis))
}

/// True when `q`'s filters keep the combination `c`, but for `menu`'s own.
fn keeps(q: &AuditQuery, c: &Combo, menu: Menu) -> bool {
    let Filters {
        view,
        // Not counted here (`facet_counts` answers `None`), or counted by the rows read (the time, the actor).
        q: _,
        target_id: _,
        // Counted by the rows read (the address cube or events).
        ip: _,
        range: _,
        from: _,
        to: _,
        actor: _,
        exclude_actor: _,
        // Counted by the rows read (the tenant's cube or events).
        tenant: _,
        actions,
        category,
        verb,
        actor_type,
        target_type,
        outcome,
        source,
    } = q.filters();
    let category_of_c = category_of(&c.action);
    let action_kept = menu == Menu::Action
        || ((actions.is_empty() || actions.contains(&c.action))
            && category.as_ref().is_none_or(|x| x == category_of_c));
    let view_kept = view.holds_category(category_of_c);
    view_kept
        && action_kept
        && (menu == Menu::Verb || verb.as_ref().is_none_or(|v| verb_of(&c.action) == v))
        && outcome.is_none_or(|o| o.as_str() == c.outcome)
        && (menu == Menu::ActorType || actor_type.is_none_or(|t| t.as_str() == c.actor_type))
        && (menu == Menu::TargetType || target_type.as_ref().is_none_or(|t| *t == c.target_type))
        && (menu == Menu::Source || source.as_ref().is_none_or(|s| *s == c.source))
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;

    /// The live counts of an address next to an actor, which no cube holds, are grouped from `events_by_address`
    /// alone: reading each event's row cost a random read apiece from a cold disk (1.5 s at 1M). SQLite
    /// opens the table beside an index on an expression, but reads no column of it (the statement's
    /// bytecode). (For a range of several addresses next to one actor SQLite may prefer the actor's index.)
    #[tokio::test]
    async fn an_address_next_to_an_actor_is_grouped_from_the_address_index_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = AuditStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let whos = ["zoe@acme.com".to_string()];
        let ips = ["203.0.113.7".to_string()];
        let slice = Slice {
            whos: Some(&whos),
            tenant: None,
            ips: Some(&ips),
        };
        assert_eq!(slice.cube(), None);
        let root = |name: &'static str| {
            sqlx::query_scalar::<_, i64>("SELECT rootpage FROM sqlite_master WHERE name = ?")
                .bind(name)
                .fetch_one(&store.read)
        };
        let (events, by_ip) = (root("events").await.unwrap(), root("events_by_address").await.unwrap());
        for what in [Kept::Events(None, None), Kept::Events(Some(0), Some(DAY_MS))] {
            // Unbound parameters are NULL: the bytecode does not depend on them.
            let code: Vec<(String, i64, i64)> =
                sqlx::query(&format!("EXPLAIN {}", kept_statement(what, slice, None).sql()))
                    .fetch_all(&store.read)
                    .await
                    .unwrap()
                    .iter()
                    .map(|op| (op.get(1), op.get(2), op.get(3)))
                    .collect();
            let cursors_on = |root: i64| -> Vec<i64> {
                code.iter()
                    .filter(|(op, _, p2)| op == "OpenRead" && *p2 == root)
                    .map(|(_, cursor, _)| *cursor)
                    .collect()
            };
            assert!(!cursors_on(by_ip).is_empty(), "{code:?}");
            let table = cursors_on(events);
            let table_reads = code
                .iter()
                .filter(|(op, cursor, _)| op == "Column" && table.contains(cursor));
            assert_eq!(table_reads.count(), 0, "{code:?}");
        }
    }
}
