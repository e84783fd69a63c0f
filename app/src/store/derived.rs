//! What the event writer keeps beside the events, in the same transaction: the total (`event_count`), counts
//! per value (`value_counts`) and per UTC day (`day_counts`), per day and combination of the filter columns
//! (`day_cube`) and per actor key, tenant and address too (`KEYED_CUBES`), every actor's parts (`actors`), and
//! the range of times in each block of row ids (`seq_blocks`). A transaction's events are summed in memory
//! first (a few distinct keys among many events), then each key is written once.

use std::collections::HashSet;

use rusqlite::{ToSql, Transaction, params};
// Keyed by our own values: a fast hash, no need for SipHash's resistance to chosen keys.
use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use super::schema::{DAY_MS, KEYED_CUBES, WHO, block_of, who};
use crate::model::{ValidEvent, event::category_of};

/// An actor's (id, name, email), '' for a missing part, as the `actors` table keys it.
pub(super) type ActorParts = (String, String, String);

/// A day and the filter columns of `day_cube`: action, outcome, actor type, target type, source.
type CubeKey<'a> = (i64, &'a str, &'a str, &'a str, &'a str, &'a str);

/// A keyed cube's counts: by key and `CubeKey`.
type KeyedCounts<'a> = HashMap<(&'a str, CubeKey<'a>), i64>;

/// The actors the writer knows are in `actors`, at most `max` (then it forgets them all and relearns:
/// adding one again is a no-op).
#[derive(Debug)]
pub(super) struct KnownActors {
    max: usize,
    known: HashSet<ActorParts>,
}

impl KnownActors {
    pub(super) fn new(max: usize) -> Self {
        KnownActors {
            max,
            known: HashSet::new(),
        }
    }

    /// Forgets every actor (a purge may have removed some from `actors`).
    pub(super) fn forget(&mut self) {
        self.known.clear();
    }

    /// Remembers actors a committed transaction added.
    pub(super) fn learn(&mut self, added: Vec<ActorParts>) {
        if self.known.len() + added.len() > self.max {
            self.known.clear();
        }
        self.known.extend(added);
    }
}

/// The values of an event that the derived tables count: a new event's, or a stored row's that a purge
/// removes.
pub(super) struct Counted<'a> {
    pub ts: i64,
    pub seq: i64,
    pub action: &'a str,
    pub category: &'a str,
    pub outcome: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub source: &'a str,
    pub tenant: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl<'a> Counted<'a> {
    /// A new event, stored at `ts` as row `seq`.
    pub(super) fn new_event(e: &'a ValidEvent, ts: i64, seq: i64) -> Self {
        let a = &e.actor;
        Counted {
            ts,
            seq,
            action: e.action.as_str(),
            category: e.action.category(),
            outcome: e.outcome.as_str(),
            actor_type: a.kind.as_str(),
            actor_id: a.id.as_deref(),
            actor_name: a.name.as_deref(),
            actor_email: a.email.as_deref(),
            target_type: e.target.as_ref().map(|t| t.kind.as_str()),
            source: e.source.as_str(),
            tenant: e.tenant.as_deref(),
            ip: e.ip.as_deref(),
        }
    }
}

/// What one transaction's new events add to the derived tables (or, `removing`, what a purge takes away).
#[derive(Default)]
pub(super) struct Derived<'a> {
    /// True while counting rows a purge removes.
    removing: bool,
    added: i64,
    actors: FxHashSet<(&'a str, &'a str, &'a str)>,
    /// By filter column, value and day (migration 7).
    days: HashMap<(&'a str, &'a str, i64), i64>,
    /// By address, without days (migration 22): the addresses an IP range is resolved to.
    ips: HashMap<&'a str, i64>,
    /// By combination of those columns and day (migration 9).
    cube: HashMap<CubeKey<'a>, i64>,
    /// And by actor key, by tenant and by address, for events that have one (`KEYED_CUBES`).
    keyed: [KeyedCounts<'a>; KEYED_CUBES.len()],
    /// The range of times in each block of row ids (migration 14).
    blocks: HashMap<i64, (i64, i64)>,
}

impl<'a> Derived<'a> {
    /// Counts rows a purge removes: `write_removed` takes them off.
    pub(super) fn removing() -> Self {
        Derived {
            removing: true,
            ..Derived::default()
        }
    }

    /// Counts an event.
    pub(super) fn add(&mut self, c: Counted<'a>) {
        let one = if self.removing { -1 } else { 1 };
        self.added += one;
        if !self.removing {
            let range = self.blocks.entry(block_of(c.seq)).or_insert((c.ts, c.ts));
            *range = (range.0.min(c.ts), range.1.max(c.ts));
        }
        let (id, name, email) = (c.actor_id, c.actor_name, c.actor_email);
        self.actors
            .insert((id.unwrap_or(""), name.unwrap_or(""), email.unwrap_or("")));
        let who = who(id, name, email);
        let day = c.ts.div_euclid(DAY_MS);
        for (col, value) in [
            ("*", ""),
            ("action", c.action),
            ("category", c.category),
            ("outcome", c.outcome),
            ("actor_type", c.actor_type),
            ("source", c.source),
            ("actor", who),
        ]
        .into_iter()
        .chain(c.target_type.map(|t| ("target_type", t)))
        .chain(c.tenant.map(|t| ("tenant", t)))
        {
            *self.days.entry((col, value, day)).or_insert(0) += one;
        }
        let cube_key = (
            day,
            c.action,
            c.outcome,
            c.actor_type,
            c.target_type.unwrap_or(""),
            c.source,
        );
        if let Some(ip) = c.ip {
            *self.ips.entry(ip).or_insert(0) += one;
        }
        *self.cube.entry(cube_key).or_insert(0) += one;
        for (counts, key) in self.keyed.iter_mut().zip([Some(who), c.tenant, c.ip]) {
            if let Some(key) = key {
                *counts.entry((key, cube_key)).or_insert(0) += one;
            }
        }
    }

    /// Writes what was counted; returns the actors new to `actors`.
    pub(super) fn write(self, tx: &Transaction, known: &KnownActors) -> rusqlite::Result<Vec<ActorParts>> {
        write_blocks(tx, &self.blocks)?;
        write_days(tx, &self.days)?;
        write_ips(tx, &self.ips)?;
        write_cubes(tx, &self.cube, &self.keyed)?;
        let new_actors: Vec<ActorParts> = self
            .actors
            .iter()
            .map(|&(id, name, email)| (id.to_string(), name.to_string(), email.to_string()))
            .filter(|parts| !known.known.contains(parts))
            .collect();
        write_actors(tx, &new_actors)?;
        tx.execute("UPDATE event_count SET n = n + ?1 WHERE id = 1", [self.added])?;
        Ok(new_actors)
    }

    /// Takes what a purge removed off the derived tables, deleting the counts that fall to zero and the actors
    /// that no event names any more. Returns how many actors went.
    pub(super) fn write_removed(self, tx: &Transaction) -> rusqlite::Result<usize> {
        write_days(tx, &self.days)?;
        write_ips(tx, &self.ips)?;
        write_cubes(tx, &self.cube, &self.keyed)?;
        let mut gone =
            tx.prepare_cached("DELETE FROM day_counts WHERE col = ?1 AND value = ?2 AND day = ?3 AND n <= 0")?;
        let mut totals = FxHashSet::default();
        for &(col, value, day) in self.days.keys() {
            gone.execute(params![col, value, day])?;
            totals.insert((col, value));
        }
        totals.extend(self.ips.keys().map(|ip| ("ip", *ip)));
        let mut gone = tx.prepare_cached("DELETE FROM value_counts WHERE col = ?1 AND value = ?2 AND n <= 0")?;
        for (col, value) in totals {
            gone.execute(params![col, value])?;
        }
        let mut gone = tx.prepare_cached(
            "DELETE FROM day_cube WHERE day = ?1 AND action = ?2 AND outcome = ?3 AND actor_type = ?4 \
             AND target_type = ?5 AND source = ?6 AND n <= 0",
        )?;
        for (day, action, outcome, actor_type, target_type, source) in self.cube.keys() {
            gone.execute(params![day, action, outcome, actor_type, target_type, source])?;
        }
        for ((table, first), keyed) in KEYED_CUBES.iter().zip(&self.keyed) {
            let mut gone = tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE {first} = ?1 AND day = ?2 AND action = ?3 AND outcome = ?4 \
                 AND actor_type = ?5 AND target_type = ?6 AND source = ?7 AND n <= 0"
            ))?;
            for (key, (day, action, outcome, actor_type, target_type, source)) in keyed.keys() {
                gone.execute(params![key, day, action, outcome, actor_type, target_type, source])?;
            }
        }
        tx.execute("UPDATE event_count SET n = n + ?1 WHERE id = 1", [self.added])?;
        let mut still_named = tx.prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM events WHERE {WHO} = ?4 AND IFNULL(actor_id, '') = ?1 \
             AND IFNULL(actor_name, '') = ?2 AND IFNULL(actor_email, '') = ?3)"
        ))?;
        let mut forget =
            tx.prepare_cached("DELETE FROM actors WHERE actor_id = ?1 AND actor_name = ?2 AND actor_email = ?3")?;
        let mut forgotten = 0;
        for &(id, name, email) in &self.actors {
            let part = |p: &'a str| (!p.is_empty()).then_some(p);
            let key = who(part(id), part(name), part(email));
            if !still_named.query_row(params![id, name, email, key], |r| r.get::<_, bool>(0))? {
                forgotten += forget.execute(params![id, name, email])?;
            }
        }
        Ok(forgotten)
    }
}

fn write_blocks(tx: &Transaction, blocks: &HashMap<i64, (i64, i64)>) -> rusqlite::Result<()> {
    let mut block_times = tx.prepare_cached(
        "INSERT INTO seq_blocks (block, min_ts, max_ts) VALUES (?1, ?2, ?3) ON CONFLICT (block) \
         DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), max_ts = MAX(max_ts, excluded.max_ts)",
    )?;
    for (block, (min, max)) in blocks {
        block_times.execute(params![block, min, max])?;
    }
    Ok(())
}

/// The per-day counts, and the totals per value they add up to.
fn write_days(tx: &Transaction, days: &HashMap<(&str, &str, i64), i64>) -> rusqlite::Result<()> {
    let mut count_day = tx.prepare_cached(
        "INSERT INTO day_counts (col, value, day, n) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (col, value, day) DO UPDATE SET n = n + excluded.n",
    )?;
    let mut totals: HashMap<(&str, &str), i64> = HashMap::default();
    for ((col, value, day), n) in days {
        count_day.execute(params![col, value, day, n])?;
        *totals.entry((col, value)).or_insert(0) += n;
    }
    let mut count_value = tx.prepare_cached(
        "INSERT INTO value_counts (col, value, n) VALUES (?1, ?2, ?3) \
         ON CONFLICT (col, value) DO UPDATE SET n = n + excluded.n",
    )?;
    for ((col, value), n) in totals {
        count_value.execute(params![col, value, n])?;
    }
    Ok(())
}

/// How many events each address has, in `value_counts` (col `ip`).
fn write_ips(tx: &Transaction, ips: &HashMap<&str, i64>) -> rusqlite::Result<()> {
    let mut count_value = tx.prepare_cached(
        "INSERT INTO value_counts (col, value, n) VALUES ('ip', ?1, ?2) \
         ON CONFLICT (col, value) DO UPDATE SET n = n + excluded.n",
    )?;
    for (ip, n) in ips {
        count_value.execute(params![ip, n])?;
    }
    Ok(())
}

/// The cube's rows, then each keyed cube's (the same columns after its key).
fn write_cubes(tx: &Transaction, cube: &HashMap<CubeKey, i64>, keyed: &[KeyedCounts]) -> rusqlite::Result<()> {
    let cube_sql = |table: &str, first: &str, param: &str| {
        format!(
            "INSERT INTO {table} ({first}day, action, category, outcome, actor_type, target_type, source, n) \
             VALUES ({param}?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT ({first}day, action, outcome, actor_type, target_type, source) \
             DO UPDATE SET n = n + excluded.n"
        )
    };
    let mut count_combination = tx.prepare_cached(&cube_sql("day_cube", "", ""))?;
    for (key, n) in cube {
        count_row(&mut count_combination, None, key, *n)?;
    }
    for ((table, first), counts) in KEYED_CUBES.iter().zip(keyed) {
        let mut count_keyed = tx.prepare_cached(&cube_sql(table, &format!("{first}, "), "?, "))?;
        for ((first, key), n) in counts {
            count_row(&mut count_keyed, Some(first), key, *n)?;
        }
    }
    Ok(())
}

/// Adds `n` to a cube's row: the combination `key`, after the keyed cube's `first` column.
fn count_row(
    statement: &mut rusqlite::CachedStatement,
    first: Option<&str>,
    (day, action, outcome, actor_type, target_type, source): &CubeKey,
    n: i64,
) -> rusqlite::Result<usize> {
    let category = category_of(action);
    let columns: [&dyn ToSql; 8] = [day, action, &category, outcome, actor_type, target_type, source, &n];
    match first {
        None => statement.execute(&columns[..]),
        Some(first) => {
            let with_first: Vec<&dyn ToSql> = std::iter::once(&first as &dyn ToSql).chain(columns).collect();
            statement.execute(&with_first[..])
        }
    }
}

fn write_actors(tx: &Transaction, new_actors: &[ActorParts]) -> rusqlite::Result<()> {
    let mut add_actor = tx.prepare_cached(
        "INSERT INTO actors (actor_id, actor_name, actor_email, who) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT DO NOTHING",
    )?;
    for (id, name, email) in new_actors {
        fn part(p: &str) -> Option<&str> {
            (!p.is_empty()).then_some(p)
        }
        let who = who(part(id), part(name), part(email));
        add_actor.execute(params![id, name, email, who])?;
    }
    Ok(())
}
