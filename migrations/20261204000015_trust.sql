-- Trust (docs/trust.md): who recorded each event, the Merkle tree over the events in commit order, its signed
-- checkpoints, and a log that refuses edits and deletions from any connection.

-- Who put events in the log, each once: `body` is the `recorded_by` JSON of the canonical event. Events name
-- theirs by row id, so a token's id and name are stored once, not in every event.
CREATE TABLE recorders (
    id   INTEGER PRIMARY KEY,
    body TEXT NOT NULL UNIQUE
);
-- The events stored before `recorded_by` existed.
INSERT INTO recorders (id, body) VALUES
    (1, '{"type":"system","id":"auditlog","name":"recorded before recorded_by existed"}');
ALTER TABLE events ADD COLUMN recorder INTEGER NOT NULL DEFAULT 1;

-- The leaf hash of every event ever committed, by log index (an event's `seq` - 1). Kept when a retention
-- purge removes the event, so that every checkpoint stays verifiable and every remaining event provable.
CREATE TABLE log_leaves (
    log_index INTEGER PRIMARY KEY,
    hash      BLOB NOT NULL
);

-- The hashes of the complete subtrees at every fourth level (16, 256, 4,096… leaves), keyed by
-- `level << 48 | index`: a proof reads at most 15 of them (or of the leaves) per level instead of hashing
-- half the log.
CREATE TABLE log_nodes (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

-- Every signed checkpoint (a C2SP signed note of the tree of `tree_size` leaves).
CREATE TABLE log_checkpoints (
    tree_size INTEGER PRIMARY KEY,
    root      BLOB    NOT NULL,
    note      TEXT    NOT NULL,
    made_at   INTEGER NOT NULL
);

-- Nothing deletes an event but the retention purge: its connection, and only while it purges, has the
-- function `auditlog_purging()` answer 1. Any other connection has no such function, so its DELETE fails
-- before a row goes ("no such function"); the message names append-only in the trigger for any connection
-- that has the function but is not purging.
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN "auditlog: events are append-only, only the retention purge deletes"() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: only the retention purge deletes them');
END;
