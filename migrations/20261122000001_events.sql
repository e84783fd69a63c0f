-- The audit events: append-only. Times are Unix milliseconds, UTC. `seq` is the insertion order.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    ts          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_type  TEXT    NOT NULL CHECK (actor_type IN ('user', 'api_token', 'system')),
    actor_id    TEXT,
    actor_name  TEXT,
    actor_email TEXT,
    target_type TEXT,
    target_id   TEXT,
    target_name TEXT,
    source      TEXT    NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    details     TEXT    NOT NULL DEFAULT '{}',
    -- A one-line digest of details for the table, so a page of results never reads the details JSON.
    summary     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX events_by_time     ON events (ts, id);
CREATE INDEX events_by_action   ON events (action, ts, id);
CREATE INDEX events_by_category ON events (category, ts, id);
CREATE INDEX events_by_outcome  ON events (outcome, ts, id);
CREATE INDEX events_by_target   ON events (target_type, target_id, ts);
CREATE INDEX events_by_actor_id ON events (actor_id, ts);
CREATE INDEX events_by_actor_em ON events (actor_email, ts);
CREATE INDEX events_by_actor_nm ON events (actor_name, ts);
CREATE INDEX events_by_source   ON events (source, ts);

-- Nothing in the product edits an event.
CREATE TRIGGER events_are_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
