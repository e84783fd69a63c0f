//! Exact totals for structured filters without recounting. Events are append-only and `seq` only grows, so
//! the count of a filter up to some `seq` never changes: it is kept, keyed by the filter, and a later total
//! adds only the rows inserted since (a rowid range scan). The first request for a filter counts in full.
//! Anything that ever deletes events (a retention purge) must also empty this cache.

use std::{collections::HashMap, sync::Mutex};

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
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            let newer = entries.get(&key).is_none_or(|(_, known)| *known < through);
            if newer {
                entries.insert(key, (count, through));
            }
        }
    }
}
