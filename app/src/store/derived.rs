//! What the event writer keeps beside the events, in the same transaction: the total (`event_count`), counts
//! per value (`value_counts`) and per UTC day (`day_counts`), per day and combination of the filter columns
//! (`day_cube`) and per actor key too (`actor_day_cube`), every actor's parts (`actors`), and the range of
//! times in each block of row ids (`seq_blocks`). A transaction's events are summed in memory first (a few
//! distinct keys among many events), then each key is written once.

use std::collections::HashSet;

use rusqlite::{ToSql, Transaction, params};
// Keyed by our own values: a fast hash, no need for SipHash's resistance to chosen keys.
use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use super::schema::{DAY_MS, block_of, who};
use crate::model::{ValidEvent, event::category_of};

/// An actor's (id, name, email), '' for a missing part, as the `actors` table keys it.
pub(super) type ActorParts = (String, String, String);

/// A day and the filter columns of `day_cube`: action, outcome, actor type, target type, source.
type CubeKey<'a> = (i64, &'a str, &'a str, &'a str, &'a str, &'a str);

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

    /// Remembers actors a committed transaction added.
    pub(super) fn learn(&mut self, added: Vec<ActorParts>) {
        if self.known.len() + added.len() > self.max {
            self.known.clear();
        }
        self.known.extend(added);
    }
}

/// What one transaction's new events add to the derived tables.
#[derive(Default)]
pub(super) struct Derived<'a> {
    added: i64,
    actors: FxHashSet<(&'a str, &'a str, &'a str)>,
    /// By filter column, value and day (migration 7).
    days: HashMap<(&'a str, &'a str, i64), i64>,
    /// By combination of those columns and day (migration 9).
    cube: HashMap<CubeKey<'a>, i64>,
    /// And by actor key (migration 11).
    actor_cube: HashMap<(&'a str, CubeKey<'a>), i64>,
    /// The range of times in each block of row ids (migration 14).
    blocks: HashMap<i64, (i64, i64)>,
}

impl<'a> Derived<'a> {
    /// Counts a new event, stored at `ts` as row `seq`.
    pub(super) fn add(&mut self, e: &'a ValidEvent, ts: i64, seq: i64) {
        self.added += 1;
        let range = self.blocks.entry(block_of(seq)).or_insert((ts, ts));
        *range = (range.0.min(ts), range.1.max(ts));
        let a = &e.actor;
        let (id, name, email) = (a.id.as_deref(), a.name.as_deref(), a.email.as_deref());
        self.actors
            .insert((id.unwrap_or(""), name.unwrap_or(""), email.unwrap_or("")));
        let who = who(id, name, email);
        let target_type = e.target.as_ref().map(|t| t.kind.as_str());
        let day = ts.div_euclid(DAY_MS);
        for (col, value) in [
            ("*", ""),
            ("action", e.action.as_str()),
            ("category", e.action.category()),
            ("outcome", e.outcome.as_str()),
            ("actor_type", a.kind.as_str()),
            ("source", e.source.as_str()),
            ("actor", who),
        ]
        .into_iter()
        .chain(target_type.map(|t| ("target_type", t)))
        {
            *self.days.entry((col, value, day)).or_insert(0) += 1;
        }
        let cube_key = (
            day,
            e.action.as_str(),
            e.outcome.as_str(),
            a.kind.as_str(),
            target_type.unwrap_or(""),
            e.source.as_str(),
        );
        *self.cube.entry(cube_key).or_insert(0) += 1;
        *self.actor_cube.entry((who, cube_key)).or_insert(0) += 1;
    }

    /// Writes what was counted; returns the actors new to `actors`.
    pub(super) fn write(self, tx: &Transaction, known: &KnownActors) -> rusqlite::Result<Vec<ActorParts>> {
        write_blocks(tx, &self.blocks)?;
        write_days(tx, &self.days)?;
        write_cubes(tx, &self.cube, &self.actor_cube)?;
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

/// The cube's rows, then the actor cube's: the same columns after `who`.
fn write_cubes(
    tx: &Transaction,
    cube: &HashMap<CubeKey, i64>,
    actor_cube: &HashMap<(&str, CubeKey), i64>,
) -> rusqlite::Result<()> {
    let cube_sql = |table: &str, who: &str, param: &str| {
        format!(
            "INSERT INTO {table} ({who}day, action, category, outcome, actor_type, target_type, source, n) \
             VALUES ({param}?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT ({who}day, action, outcome, actor_type, target_type, source) DO UPDATE SET n = n + excluded.n"
        )
    };
    let mut count_combination = tx.prepare_cached(&cube_sql("day_cube", "", ""))?;
    let mut count_actor_combination = tx.prepare_cached(&cube_sql("actor_day_cube", "who, ", "?, "))?;
    let combinations = cube.iter().map(|(key, n)| (None, key, n));
    let actor_combinations = actor_cube.iter().map(|((who, key), n)| (Some(who), key, n));
    for (who, (day, action, outcome, actor_type, target_type, source), n) in combinations.chain(actor_combinations) {
        let category = category_of(action);
        let columns: [&dyn ToSql; 8] = [day, action, &category, outcome, actor_type, target_type, source, n];
        match who {
            None => count_combination.execute(&columns[..])?,
            Some(who) => {
                let with_who: Vec<&dyn ToSql> = std::iter::once(who as &dyn ToSql).chain(columns).collect();
                count_actor_combination.execute(&with_who[..])?
            }
        };
    }
    Ok(())
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
