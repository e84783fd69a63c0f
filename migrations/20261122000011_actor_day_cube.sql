-- `day_cube` (migration 9) per actor key too: events per UTC day, actor key (`who`, migration 8) and
-- combination of the low-cardinality filter columns, kept by the writer in the same transaction as the inserts.
-- An actor combined with other filters (this person's failed sign-ins) then has its first total and its deep
-- pages from a few rows per active day of that actor. Anything that deletes events (a future retention purge)
-- must subtract here in its own transaction.
CREATE TABLE actor_day_cube (
    who         TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (who, day, action, outcome, actor_type, target_type, source)
) WITHOUT ROWID;

INSERT INTO actor_day_cube (who, day, action, category, outcome, actor_type, target_type, source, n)
SELECT COALESCE(actor_email, actor_id, actor_name) AS w,
       (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d, action, category, outcome, actor_type,
       IFNULL(target_type, '') AS tt, source, COUNT(*)
FROM events
GROUP BY w, d, action, outcome, actor_type, tt, source;
