//! The log's Merkle tree as stored (migration 15): every leaf hash by log index (`log_leaves`), the complete
//! subtrees at every fourth level (`log_nodes`), the signed checkpoints (`log_checkpoints`). The writer
//! appends through `Log` in the same transaction as the events; reads (proofs, verification) go through
//! `SqlNodes`.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    error::StoreError,
    schema::{StoredEvent, full_columns, now_millis},
};
use crate::trust::{Frontier, Hash, Nodes, Signer, leaf_hash_of, tree::leaf_hash};

/// Subtrees are stored at the levels that are multiples of this (the leaves are level 0): a subtree at
/// another level is hashed from at most 2^(STORED_EVERY - 1) stored ones below it.
pub(super) const STORED_EVERY: u32 = 4;

/// The key of a subtree in `log_nodes`.
pub(super) fn node_key(level: u32, index: u64) -> i64 {
    ((level as i64) << 48) | index as i64
}

/// Complete subtrees read from the database.
pub(super) struct SqlNodes<'c>(pub &'c Connection);

impl Nodes for SqlNodes<'_> {
    type Error = StoreError;

    fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let base = level - level % STORED_EVERY;
        let below = level - base;
        let first = index << below;
        let last = first + (1 << below) - 1;
        let (sql, lo, hi) = if base == 0 {
            (
                "SELECT hash FROM log_leaves WHERE log_index BETWEEN ?1 AND ?2 ORDER BY log_index",
                first as i64,
                last as i64,
            )
        } else {
            (
                "SELECT hash FROM log_nodes WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
                node_key(base, first),
                node_key(base, last),
            )
        };
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut hashes = stmt
            .query_map(params![lo, hi], |r| r.get::<_, Vec<u8>>(0))?
            .map(|h| Ok(h?.try_into().ok()))
            .collect::<Result<Option<Vec<Hash>>, rusqlite::Error>>()?
            .filter(|h| h.len() as u64 == 1 << below)
            .ok_or_else(|| StoreError::corrupt("log_nodes", &node_key(level, index).to_string(), "hash", "missing"))?;
        while hashes.len() > 1 {
            hashes = hashes
                .chunks(2)
                .map(|pair| crate::trust::tree::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        Ok(hashes[0])
    }
}

/// The writer's side of the log: the tree's right edge, and who signs its checkpoints.
#[derive(Debug)]
pub(super) struct Log {
    frontier: Frontier,
    signer: Arc<Signer>,
    /// The size of the latest checkpoint.
    checkpointed: u64,
}

impl Log {
    /// The log as stored. When the log is empty but events are stored (a database from before the log), the
    /// events are hashed into it first, once.
    pub(super) fn open(conn: &mut Connection, signer: Arc<Signer>) -> Result<Log, StoreError> {
        let checkpointed: i64 = conn.query_row("SELECT COALESCE(MAX(tree_size), 0) FROM log_checkpoints", [], |r| {
            r.get(0)
        })?;
        let mut log = Log {
            frontier: Frontier::default(),
            signer,
            checkpointed: checkpointed as u64,
        };
        if logged_size(conn)? == 0 {
            log.hash_stored(conn)?;
        }
        Ok(log)
    }

    /// Appends leaves for the events stored before the log existed, in commit order.
    fn hash_stored(&mut self, conn: &mut Connection) -> Result<(), StoreError> {
        let tx = conn.transaction()?;
        let mut added = 0u64;
        {
            let mut stmt = tx.prepare(&format!("SELECT {} FROM events ORDER BY seq", full_columns()))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let event = StoredEvent::read(row)?.decode()?;
                // Rows deleted by hand before the log existed keep their places (see `sync`).
                self.pad(&tx, event.log_index.unwrap_or_default())?;
                self.append(&tx, &leaf_hash_of(&event))?;
                added += 1;
                if added.is_multiple_of(1_000_000) {
                    tracing::info!(events = added, "hashing stored events into the log");
                }
            }
        }
        tx.commit()?;
        if added > 0 {
            tracing::info!(events = added, "hashed the events stored before the log");
        }
        Ok(())
    }

    /// Brings the writer's view up to the database in the caller's (immediate) transaction, before it
    /// appends: another process (a command line next to the server) may have appended since, and a row put
    /// in `events` by anything but a writer has no leaf. Such a row keeps its place in the log with the
    /// hash of nothing as its leaf, so that every later event keeps `log index = seq - 1`; verification
    /// names it as not matching its leaf.
    pub(super) fn sync(&mut self, tx: &Connection) -> Result<(), StoreError> {
        let logged = logged_size(tx)?;
        if logged != self.frontier.size() {
            self.frontier = Frontier::load(&mut SqlNodes(tx), logged)?;
        }
        let stored: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
        self.pad(tx, stored as u64)?;
        Ok(())
    }

    /// Fills the log up to `size` leaves with the hash of nothing, for rows not stored by a writer.
    fn pad(&mut self, tx: &Connection, size: u64) -> rusqlite::Result<()> {
        if size > self.frontier.size() {
            tracing::warn!(
                from = self.frontier.size(),
                to = size - 1,
                "log indexes without an event stored by the writer"
            );
        }
        while self.frontier.size() < size {
            self.append(tx, &leaf_hash(&[]))?;
        }
        Ok(())
    }

    /// The row id the next event gets: its log index plus one.
    pub(super) fn next_seq(&self) -> i64 {
        self.frontier.size() as i64 + 1
    }

    /// The right edge as it stands, to put back if the transaction appending to it fails.
    pub(super) fn mark(&self) -> Frontier {
        self.frontier.clone()
    }

    pub(super) fn reset(&mut self, mark: Frontier) {
        self.frontier = mark;
    }

    /// Appends a leaf in the caller's transaction, with the subtrees it completes at the stored levels.
    pub(super) fn append(&mut self, tx: &Connection, leaf: &Hash) -> rusqlite::Result<()> {
        self.append_all(tx, std::slice::from_ref(leaf))
    }

    /// Appends leaves in order, in the caller's transaction: one statement for all of them.
    pub(super) fn append_all(&mut self, tx: &Connection, leaves: &[Hash]) -> rusqlite::Result<()> {
        let mut insert = tx.prepare_cached("INSERT INTO log_leaves (log_index, hash) VALUES (?1, ?2)")?;
        let mut completed: Vec<(i64, Hash)> = Vec::new();
        for leaf in leaves {
            insert.execute(params![self.frontier.size() as i64, &leaf[..]])?;
            self.frontier.push(*leaf, |level, index, hash| {
                if level % STORED_EVERY == 0 {
                    completed.push((node_key(level, index), *hash));
                }
            });
        }
        let mut insert = tx.prepare_cached("INSERT INTO log_nodes (id, hash) VALUES (?1, ?2)")?;
        for (key, hash) in completed {
            insert.execute(params![key, &hash[..]])?;
        }
        Ok(())
    }

    /// Signs and stores a checkpoint of the tree when events were appended since the last one.
    pub(super) fn checkpoint(&mut self, conn: &mut Connection) -> Result<(), StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.sync(&tx)?;
        let size = self.frontier.size();
        if size == self.checkpointed {
            return Ok(());
        }
        let root = self.frontier.root();
        let note = self.signer.sign(size, &root);
        tx.execute(
            "INSERT INTO log_checkpoints (tree_size, root, note, made_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (tree_size) DO NOTHING",
            params![size as i64, &root[..], note, now_millis()],
        )?;
        tx.commit()?;
        self.checkpointed = size;
        Ok(())
    }
}

/// How many leaves the log holds.
pub(super) fn logged_size(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COALESCE(MAX(log_index) + 1, 0) FROM log_leaves", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// The latest checkpoint (tree size, signed note), if any.
pub(super) fn latest_checkpoint(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    conn.query_row(
        "SELECT tree_size, note FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
    )
    .optional()
}
