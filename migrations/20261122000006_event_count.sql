-- The number of events, kept exact by the writer in the same transaction as the inserts, so the default
-- view (no filter) need not count a million rows on every page. Anything that deletes events (a future
-- retention purge) must subtract here in its own transaction.
CREATE TABLE event_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO event_count (id, n) SELECT 1, COUNT(*) FROM events;
