//! Exact totals for structured filters without recounting. Events are append-only and `seq` only grows, so
//! the count of a filter up to some `seq` never changes: it is kept, keyed by the filter, and a later total
//! adds only the rows inserted since (a rowid range scan). The first request for a filter counts in full.
//! Anything that ever deletes events (a retention purge) must also empty this cache.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// Filters remembered at most; past this the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct CountCache {
    entries: Mutex<HashMap<String, (u64, i64)>>,
}

impl CountCache {
    /// The count of `key` through `seq`, if known.
    pub(super) fn get(&self, key: &str) -> Option<(u64, i64)> {
        self.entries.lock().ok()?.get(key).copied()
    }

    pub(super) fn put(&self, key: String, count: u64, through: i64) {
        self.keep(key, (count, through), |known| known.1 < through);
    }

    /// Keeps `count` for `key` as a lower bound: the larger of it and the one kept.
    pub(super) fn raise(&self, key: String, count: u64, through: i64) {
        self.keep(key, (count, through), |known| known.0 < count);
    }

    /// Stores `entry` for `key` when none is kept or when `replaces` says the kept one gives way to it.
    fn keep(&self, key: String, entry: (u64, i64), replaces: impl Fn(&(u64, i64)) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            if entries.get(&key).is_none_or(replaces) {
                entries.insert(key, entry);
            }
        }
    }
}

/// Searches whose block counts are remembered at most; past this the cache starts over. Each holds at most one
/// count per block (2,442 blocks at 10M events: about 60 KB).
const MAX_SEARCHES: usize = 32;

/// The matches of a search's FTS5 query in each block of 4,096 row ids (see `fill_by_blocks`), for the blocks
/// the free-text index held whole when they were counted. Such a count never changes (rows are never added
/// below the index's mark), so a deep page of a common term counts each block once, and the next page reads
/// only its own segment. Anything that ever deletes events (a retention purge) must also empty this cache.
#[derive(Debug, Default)]
pub(super) struct BlockCounts {
    entries: Mutex<HashMap<String, HashMap<i64, u64>>>,
}

impl BlockCounts {
    /// The blocks of `expr` counted so far.
    pub(super) fn get(&self, expr: &str) -> HashMap<i64, u64> {
        let entries = self.entries.lock().ok();
        entries.and_then(|e| e.get(expr).cloned()).unwrap_or_default()
    }

    /// Adds counts of whole, indexed blocks of `expr`.
    pub(super) fn put(&self, expr: &str, counts: impl IntoIterator<Item = (i64, u64)>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_SEARCHES && !entries.contains_key(expr) {
                entries.clear();
            }
            entries.entry(expr.to_string()).or_default().extend(counts);
        }
    }
}

/// The row ids a search matches, in order, shared with the cache.
pub(super) type MatchSet = Arc<Vec<i64>>;

/// Searches whose sets of matches are remembered at most; past this the cache starts over. Each holds at most
/// 10,001 row ids (80 KB).
const MAX_SETS: usize = 64;

/// The row ids an FTS5 query matches among the rows the free-text index held at some mark, for queries with
/// at most 10,000 matches (the ones a page reads through the index: see `TextPlan::Index`). Such a set never
/// loses a row (rows are never removed from the index), so auto-refresh and the next page read only the rows
/// indexed since the mark: a term next to a filter that matches nothing costs the index a walk through both
/// (`q=zoe&actor_type=api_token`: 47 ms at 10M events) every time otherwise. Anything that ever deletes
/// events (a retention purge) must also empty this cache.
#[derive(Debug, Default)]
pub(super) struct MatchSets {
    entries: Mutex<HashMap<String, (MatchSet, i64)>>,
}

impl MatchSets {
    /// The matches of `expr` through the mark it returns, if known.
    pub(super) fn get(&self, expr: &str) -> Option<(MatchSet, i64)> {
        self.entries.lock().ok()?.get(expr).cloned()
    }

    /// Keeps the matches of `expr` through the index's mark `through`, unless a later set is kept.
    pub(super) fn put(&self, expr: &str, set: MatchSet, through: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_SETS && !entries.contains_key(expr) {
                entries.clear();
            }
            if entries.get(expr).is_none_or(|(_, known)| *known < through) {
                entries.insert(expr.to_string(), (set, through));
            }
        }
    }
}
