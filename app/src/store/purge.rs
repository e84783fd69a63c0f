//! One batch of a retention purge, on the event writer's connection and in its transaction: the oldest
//! events before the cutoff, deleted with everything kept beside them (the free-text and target-id indexes,
//! the counts and cubes, the actors no event names any more, the blocks' time ranges), and the runs of log
//! indexes they held noted in `log_purges`. Their leaf hashes stay in the log.

use rusqlite::{Connection, Transaction, params};

use super::{
    derived::{Counted, Derived},
    schema::{block_of, block_span},
};

/// A purged row: what the derived tables counted of it.
struct Gone {
    seq: i64,
    ts: i64,
    action: String,
    category: String,
    outcome: String,
    actor_type: String,
    actor_id: Option<String>,
    actor_name: Option<String>,
    actor_email: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    source: String,
    tenant: Option<String>,
    ip: Option<String>,
}

impl Gone {
    fn counted(&self) -> Counted<'_> {
        Counted {
            ts: self.ts,
            seq: self.seq,
            action: &self.action,
            category: &self.category,
            outcome: &self.outcome,
            actor_type: &self.actor_type,
            actor_id: self.actor_id.as_deref(),
            actor_name: self.actor_name.as_deref(),
            actor_email: self.actor_email.as_deref(),
            target_type: self.target_type.as_deref(),
            source: &self.source,
            tenant: self.tenant.as_deref(),
            ip: self.ip.as_deref(),
        }
    }
}

/// What one batch deleted: how many events, and the first and last log index among them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Batch {
    pub deleted: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
}

/// Deletes up to `limit` of the oldest events with `ts < cutoff` and a row id of at most `up_to` (what is
/// archived) that every enabled webhook endpoint has delivered, for the purge whose event is `purge`. `deleting` turns the trigger's permission on for the
/// DELETE alone.
pub(super) fn purge_batch(
    tx: &Transaction,
    (cutoff, up_to): (i64, i64),
    limit: i64,
    purge: &str,
    deleting: impl Fn(bool),
) -> rusqlite::Result<Batch> {
    let rows = oldest(tx, (cutoff, up_to), limit)?;
    if rows.is_empty() {
        return Ok(Batch::default());
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let list = serde_json::to_string(&seqs).unwrap_or_default();
    deleting(true);
    let deleted = tx.execute(
        "DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?1))",
        [&list],
    );
    deleting(false);
    deleted?;
    unindex(tx, &rows, &list)?;
    let mut derived = Derived::removing();
    for row in &rows {
        derived.add(row.counted());
    }
    derived.write_removed(tx)?;
    narrow_blocks(tx, &seqs)?;
    note_runs(tx, &seqs, purge)?;
    Ok(Batch {
        deleted: rows.len() as u64,
        first: seqs.iter().min().map(|s| *s as u64 - 1),
        last: seqs.iter().max().map(|s| *s as u64 - 1),
    })
}

/// The oldest `limit` events before `cutoff` with a row id of at most `up_to` and not after any enabled
/// webhook endpoint's cursor (an event not yet delivered stays until it is, or until its endpoint is
/// disabled), by time (the time index).
fn oldest(conn: &Connection, (cutoff, up_to): (i64, i64), limit: i64) -> rusqlite::Result<Vec<Gone>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, ts, action, category, outcome, actor_type, actor_id, actor_name, actor_email, \
         target_type, target_id, source, tenant, ip FROM events INDEXED BY events_by_time \
         WHERE ts < ?1 AND seq <= min(?3, COALESCE((SELECT MIN(cursor) FROM webhooks WHERE enabled), ?3)) \
         ORDER BY ts LIMIT ?2",
    )?;
    stmt.query_map(params![cutoff, limit, up_to], |r| {
        Ok(Gone {
            seq: r.get(0)?,
            ts: r.get(1)?,
            action: r.get(2)?,
            category: r.get(3)?,
            outcome: r.get(4)?,
            actor_type: r.get(5)?,
            actor_id: r.get(6)?,
            actor_name: r.get(7)?,
            actor_email: r.get(8)?,
            target_type: r.get(9)?,
            target_id: r.get(10)?,
            source: r.get(11)?,
            tenant: r.get(12)?,
            ip: r.get(13)?,
        })
    })?
    .collect()
}

/// Takes the rows out of the free-text and target-id indexes, where the indexer had put them.
fn unindex(tx: &Transaction, rows: &[Gone], list: &str) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM events_fts WHERE rowid IN (SELECT value FROM json_each(?1)) \
         AND rowid <= (SELECT text_through FROM fts_progress WHERE id = 1)",
        [list],
    )?;
    let mut untarget = tx.prepare_cached(
        "DELETE FROM target_events WHERE target_id = ?1 AND seq = ?2 \
         AND seq <= (SELECT indexed_through FROM fts_progress WHERE id = 1)",
    )?;
    for row in rows {
        if let Some(target) = &row.target_id {
            untarget.execute(params![target, row.seq])?;
        }
    }
    Ok(())
}

/// The time range of each block the rows were in, from the rows that remain (none: the block goes).
fn narrow_blocks(tx: &Transaction, seqs: &[i64]) -> rusqlite::Result<()> {
    let mut blocks: Vec<i64> = seqs.iter().map(|&s| block_of(s)).collect();
    blocks.sort_unstable();
    blocks.dedup();
    for block in blocks {
        let (lo, hi) = block_span(block, block);
        let range: (Option<i64>, Option<i64>) = tx.query_row(
            "SELECT MIN(ts), MAX(ts) FROM events WHERE seq BETWEEN ?1 AND ?2",
            [lo, hi],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match range {
            (Some(min), Some(max)) => tx.execute(
                "UPDATE seq_blocks SET min_ts = ?2, max_ts = ?3 WHERE block = ?1",
                [block, min, max],
            )?,
            _ => tx.execute("DELETE FROM seq_blocks WHERE block = ?1", [block])?,
        };
    }
    Ok(())
}

/// Notes the runs of log indexes (`seq - 1`) the rows held.
fn note_runs(tx: &Transaction, seqs: &[i64], purge: &str) -> rusqlite::Result<()> {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    let mut note = tx.prepare_cached("INSERT INTO log_purges (first, last, purge) VALUES (?1, ?2, ?3)")?;
    let mut run: Option<(i64, i64)> = None;
    for seq in sorted {
        run = match run {
            Some((first, last)) if seq == last + 1 => Some((first, seq)),
            Some((first, last)) => {
                note.execute(params![first - 1, last - 1, purge])?;
                Some((seq, seq))
            }
            None => Some((seq, seq)),
        };
    }
    if let Some((first, last)) = run {
        note.execute(params![first - 1, last - 1, purge])?;
    }
    Ok(())
}
