//! What the store remembers instead of counting again. Events are append-only and `seq` only grows, so the
//! count of a filter up to some `seq` never changes: it is kept, keyed by the filter, and a later total adds
//! only the rows inserted since (a rowid range scan). The first request for a filter counts in full. The
//! free-text index's answers are kept the same way, with the index's progress mark. Anything that ever
//! deletes events (a retention purge) empties these caches (`AuditStore::forget_counts`), while no read that
//! fills them runs (`AuditStore::purge_gate`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sha2::{Digest, Sha256};

/// A key as it is kept: the first 16 bytes of its SHA-256, so that an entry's size does not depend on how
/// long a caller made its filter, and no caller can choose two keys that meet.
type Digest16 = [u8; 16];

fn digest(key: &str) -> Digest16 {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Values remembered by key, at most `max` keys: a new key past that starts the map over.
#[derive(Debug)]
pub(super) struct Kept<V> {
    max: usize,
    entries: Mutex<HashMap<Digest16, V>>,
}

impl<V: Clone> Kept<V> {
    pub(super) fn new(max: usize) -> Self {
        Kept {
            max: max.max(1),
            entries: Mutex::default(),
        }
    }

    /// Forgets every value.
    pub(super) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// The value kept for `key`, if any.
    pub(super) fn get(&self, key: &str) -> Option<V> {
        self.entries.lock().ok()?.get(&digest(key)).cloned()
    }

    /// Changes the value kept for `key` (`None`: none is) with `change`.
    pub(super) fn update(&self, key: impl AsRef<str>, change: impl FnOnce(&mut Option<V>)) {
        let key = digest(key.as_ref());
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max && !entries.contains_key(&key) {
                entries.clear();
            }
            let mut value = entries.remove(&key);
            change(&mut value);
            if let Some(value) = value {
                entries.insert(key, value);
            }
        }
    }

    /// Keeps `value` for `key` when none is kept or when `replaces` says the kept one gives way to it.
    fn keep(&self, key: impl AsRef<str>, value: V, replaces: impl FnOnce(&V) -> bool) {
        self.update(key, |kept| {
            if kept.as_ref().is_none_or(replaces) {
                *kept = Some(value);
            }
        });
    }
}

impl<T: Clone> Kept<(T, i64)> {
    /// Keeps `value`, exact through `seq` (or the index's mark) `through`, unless one exact through a later
    /// point is kept.
    pub(super) fn put(&self, key: impl AsRef<str>, value: T, through: i64) {
        self.keep(key, (value, through), |known| known.1 < through);
    }
}

/// Counts of filters and searches, with the `seq` (or the free-text index's mark) they are exact through.
pub(super) type CountCache = Kept<(u64, i64)>;

impl CountCache {
    /// Keeps `count` for `key` as a lower bound: the larger of it and the one kept.
    pub(super) fn raise(&self, key: impl AsRef<str>, count: u64, through: i64) {
        self.keep(key, (count, through), |known| known.0 < count);
    }
}

/// The matches of a search's FTS5 query in each block of 4,096 row ids (see `fill_by_blocks`), for the blocks
/// the free-text index held whole when they were counted. Such a count never changes (rows are never added
/// below the index's mark, and a purge forgets every count), so a deep page of a common term counts each block
/// once, and the next page reads only its own segment.
pub(super) type BlockCounts = Kept<HashMap<i64, u64>>;

impl BlockCounts {
    /// Adds counts of whole, indexed blocks of `expr`.
    pub(super) fn add(&self, expr: &str, counts: impl IntoIterator<Item = (i64, u64)>) {
        self.update(expr, |kept| kept.get_or_insert_default().extend(counts));
    }
}

/// The row ids a search matches, in order, shared with the cache.
pub(super) type MatchSet = Arc<Vec<i64>>;

/// The row ids an FTS5 query matches among the rows the free-text index held at some mark (`put`), for
/// queries with at most 10,000 matches (the ones a page reads through the index: see `TextPlan::Index`). Such
/// a set never loses a row (rows leave the index only in a retention purge, which forgets every set), so
/// auto-refresh and the next page read only the rows indexed since the mark: a term next
/// to a filter that matches nothing costs the index a walk through both (`q=zoe&actor_type=api_token`: 47 ms
/// at 10M events) every time otherwise.
pub(super) type MatchSets = Kept<(MatchSet, i64)>;

/// What the free-text index has shown that is not a count: the place of a search text's rarest trigram
/// (`fulltext::proven_empty`), with the index's mark it was found at.
pub(super) type IndexFacts = Kept<(usize, i64)>;

/// One combination of the counted columns (action, outcome, actor type, target type, source) and its events.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct Combo {
    pub action: String,
    pub outcome: String,
    pub actor_type: String,
    pub target_type: String,
    pub source: String,
    pub n: i64,
}

/// The combinations over a range of whole days (the menus' live counts), through a row id.
pub(super) type CubeCache = Kept<(Arc<Vec<Combo>>, i64)>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident memory of this process, in bytes (Linux).
    fn resident_bytes() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096
    }

    #[test]
    fn keys_are_kept_as_digests_whatever_their_length() {
        let kept: Kept<(u64, i64)> = Kept::new(10_000);
        let long = |i: usize| format!("q={i}&") + &"x".repeat(50_000);
        kept.put(long(0), 7, 1);
        kept.put("q=x", 8, 1);
        assert_eq!(kept.get(&long(0)), Some((7, 1)));
        assert_eq!(kept.get("q=x"), Some((8, 1)));
        // 4,000 keys of 50 KB: 200 MB if the keys were kept as they came, a few hundred KB as digests.
        let before = resident_bytes();
        for i in 1..=4_000 {
            kept.put(long(i), i as u64, 1);
        }
        let grown = resident_bytes().saturating_sub(before);
        assert!(grown < 64 << 20, "kept 4,000 long keys in {grown} bytes");
        assert_eq!(kept.get(&long(4_000)), Some((4_000, 1)));
    }

    #[test]
    fn a_key_past_the_limit_starts_the_map_over() {
        let kept: Kept<(u64, i64)> = Kept::new(2);
        kept.put("q=x", 8, 1);
        kept.put("q=z", 7, 1);
        kept.put("q=y", 9, 1);
        assert_eq!((kept.get("q=x"), kept.get("q=y")), (None, Some((9, 1))));
    }
}
