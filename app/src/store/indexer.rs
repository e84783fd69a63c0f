//! The indexer's step, on the writer's connection: the next events above each progress mark into the
//! free-text index (text and tags, migration 13) and the target-id index (migration 8). The server runs it in
//! a loop behind ingestion, and `auditlog import` until it has caught up.

use super::schema::{HIGH, LOW, MARKER, SEARCHED, TAGS};

/// The first `limit` events above `from`: the last one's seq and how many there are (`None` when there are none).
fn next_range(tx: &rusqlite::Transaction, from: i64, limit: i64) -> rusqlite::Result<Option<(i64, u64)>> {
    let (through, n): (Option<i64>, i64) = tx.query_row(
        "SELECT MAX(seq), COUNT(*) FROM (SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
        [from, limit],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(through.map(|t| (t, n as u64)))
}

/// One indexing step on the writer's connection: the next `limit` events above each progress mark, into the
/// free-text index (from `text_through`) and the target-id index (from `indexed_through`). The two marks are
/// equal except while the free-text index is rebuilt. Returns how many events the step covered.
pub(super) fn index_batch(conn: &mut rusqlite::Connection, limit: i64) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (targets_from, text_from): (i64, i64) = tx.query_row(
        "SELECT indexed_through, text_through FROM fts_progress WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut covered = 0;
    if let Some((through, n)) = next_range(&tx, text_from, limit)? {
        let range = "FROM events WHERE seq > ?1 AND seq <= ?2";
        let values: Vec<String> = TAGS
            .iter()
            .map(|(name, value)| format!("SELECT '{name}', {value} {range} AND {value} IS NOT NULL"))
            .collect();
        tx.execute(
            &format!("INSERT OR IGNORE INTO fts_tags (col, value) {}", values.join(" UNION ")),
            [text_from, through],
        )?;
        let columns: Vec<String> = TAGS.iter().map(|(name, _)| format!("t_{name}")).collect();
        let tags: Vec<String> = TAGS
            .iter()
            .enumerate()
            .map(|(place, (name, value))| {
                format!(
                    "(SELECT char({}, {HIGH} + (id >> 16), {LOW} + (id & 65535)) FROM fts_tags \
                     WHERE col = '{name}' AND value = {value})",
                    MARKER + place as u32,
                )
            })
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO events_fts (rowid, body, {}) SELECT seq, concat_ws(char(10), {}), {} {range}",
                columns.join(", "),
                SEARCHED.join(", "),
                tags.join(", ")
            ),
            [text_from, through],
        )?;
        tx.execute("UPDATE fts_progress SET text_through = ?1 WHERE id = 1", [through])?;
        covered = n;
    }
    if let Some((through, n)) = next_range(&tx, targets_from, limit)? {
        // The target-id index (migration 8), its batch sorted so that the inserts walk the b-tree once in order.
        tx.execute(
            "INSERT INTO target_events (target_id, seq) SELECT target_id, seq FROM events \
             WHERE seq > ?1 AND seq <= ?2 AND target_id IS NOT NULL ORDER BY target_id, seq",
            [targets_from, through],
        )?;
        tx.execute("UPDATE fts_progress SET indexed_through = ?1 WHERE id = 1", [through])?;
        covered = covered.max(n);
    }
    tx.commit()?;
    Ok(covered)
}
