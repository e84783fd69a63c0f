-- Fewer indexes for the writer to keep on every insert (each costs about as much as the row itself).
--
-- Actors: one index instead of three. Each event's actor is keyed by `who`, the expression
-- COALESCE(actor_email, actor_id, actor_name). `actors` lists every (id, name, email) combination seen, with its
-- `who`, so the actor filter (which matches id, email or name) first resolves its value to `who` keys in this
-- small table, then walks the one index in time order. `category` rides along in the index so that the
-- common "this person's sign-ins" filter is checked without reading the rows. The writer adds new
-- combinations in the same transaction as the events. Missing parts are stored as '' (a present part is
-- never empty: validation drops empty text).
CREATE INDEX events_by_actor ON events (COALESCE(actor_email, actor_id, actor_name), ts, id, category);

CREATE TABLE actors (
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    actor_email TEXT NOT NULL,
    who         TEXT NOT NULL,
    PRIMARY KEY (actor_id, actor_name, actor_email)
) WITHOUT ROWID;
CREATE INDEX actors_by_name ON actors (actor_name);
CREATE INDEX actors_by_email ON actors (actor_email);
CREATE INDEX actors_by_who ON actors (who);

INSERT INTO actors (actor_id, actor_name, actor_email, who)
SELECT DISTINCT IFNULL(actor_id, ''), IFNULL(actor_name, ''), IFNULL(actor_email, ''),
       COALESCE(actor_email, actor_id, actor_name)
FROM events;

-- Per-day counts by actor too (see migration 7), so that an actor's first total sums days.
INSERT INTO day_counts (col, value, day, n)
SELECT 'actor', w, d, COUNT(*) FROM (
    SELECT COALESCE(actor_email, actor_id, actor_name) AS w,
           (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d
    FROM events INDEXED BY events_by_actor
) GROUP BY w, d;

DROP INDEX events_by_actor_id;
DROP INDEX events_by_actor_em;
DROP INDEX events_by_actor_nm;

-- Target ids: an index whose inserts land all over the b-tree (ids arrive in no order), so each commit
-- rewrote much of it. It is now kept behind ingestion, by the same background step as the free-text index
-- and through the same `fts_progress.indexed_through` (rows above it are checked directly), one sorted batch
-- at a time.
CREATE TABLE target_events (
    target_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (target_id, seq)
) WITHOUT ROWID;

INSERT INTO target_events (target_id, seq)
SELECT target_id, seq FROM events INDEXED BY events_by_target_id
WHERE target_id IS NOT NULL AND seq <= (SELECT indexed_through FROM fts_progress WHERE id = 1)
ORDER BY target_id, seq;

DROP INDEX events_by_target_id;
