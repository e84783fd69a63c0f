-- Events per UTC day for each combination of the low-cardinality filter columns, kept by the writer in the same
-- transaction as the inserts (like `day_counts`, which answers one column at a time). The first total of a
-- filter on several of these columns then sums a few hundred rows a day instead of counting the events.
-- `category` is determined by `action`, so it adds no rows. An event without a target has target_type ''.
-- Anything that deletes events (a future retention purge) must subtract here in its own transaction.
CREATE TABLE day_cube (
    day         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (day, action, outcome, actor_type, target_type, source)
) WITHOUT ROWID;

INSERT INTO day_cube (day, action, category, outcome, actor_type, target_type, source, n)
SELECT (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d, action, category, outcome, actor_type,
       IFNULL(target_type, ''), source, COUNT(*)
FROM events
GROUP BY d, action, outcome, actor_type, IFNULL(target_type, ''), source;
