-- Events per UTC day for each value of the low-cardinality filter columns, and for all events (col '*'), kept
-- by the writer in the same transaction as the inserts. The first total of a filter over months of events
-- then sums a few hundred rows here (plus the partial days at the ends of a range) instead of counting
-- millions. Anything that deletes events (a future retention purge) must subtract here in its own transaction.
CREATE TABLE day_counts (
    col   TEXT    NOT NULL,
    value TEXT    NOT NULL,
    day   INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (col, value, day)
) WITHOUT ROWID;

-- Floor division, so that days before 1970 are whole days too.
INSERT INTO day_counts (col, value, day, n)
SELECT '*', '', d, COUNT(*) FROM (SELECT (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'action', action, d, COUNT(*) FROM (SELECT action, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY action, d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'category', category, d, COUNT(*) FROM (SELECT category, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY category, d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'outcome', outcome, d, COUNT(*) FROM (SELECT outcome, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY outcome, d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'actor_type', actor_type, d, COUNT(*) FROM (SELECT actor_type, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY actor_type, d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'target_type', target_type, d, COUNT(*) FROM (SELECT target_type, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events WHERE target_type IS NOT NULL) GROUP BY target_type, d;
INSERT INTO day_counts (col, value, day, n)
SELECT 'source', source, d, COUNT(*) FROM (SELECT source, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY source, d;
