-- The `ip` filter: the events from an address in a range (`ip=203.0.113.0/24`, `ip:2001:db8::/32` in the
-- search box) or from one address. A range is resolved to the addresses stored in it, and the query is then
-- served as a query of those addresses, as an actor filter is served as its keys:
--
-- 1. Every stored address is counted in `value_counts` under col 'ip' (not per day in `day_counts`: a public
--    service sees too many addresses for that). The writer keeps it, a retention purge subtracts from it.
-- 2. `events_by_ip` reads each address's events in time order. It also holds the actor key (written exactly
--    as in migration 8), so that an address next to an actor, which no cube counts, is counted and paged from
--    the index alone: reading the rows to test the actor took 1.9 s at 10M events. Events without an address
--    cost nothing more.
-- 3. `ip_day_cube`, `day_cube` per address as `actor_day_cube` (migration 11) is per actor key: the first
--    totals, deep pages, pages sorted by action and the menus' live counts of an address filter.
-- 4. The free-text index holds each event's address as one more tag (migrations 13 and 21), so that a search
--    next to an address filter is counted and paged through the index. The index is rebuilt behind ingestion
--    from the first event, as migration 21's was.
CREATE INDEX events_by_ip ON events (ip, ts, id, COALESCE(actor_email, actor_id, actor_name)) WHERE ip IS NOT NULL;

INSERT INTO value_counts (col, value, n)
    SELECT 'ip', ip, COUNT(*) FROM events INDEXED BY events_by_ip WHERE ip IS NOT NULL GROUP BY ip;

CREATE TABLE ip_day_cube (
    ip          TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (ip, day, action, outcome, actor_type, target_type, source)
) WITHOUT ROWID;

INSERT INTO ip_day_cube (ip, day, action, category, outcome, actor_type, target_type, source, n)
SELECT ip, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d, action, category, outcome,
       actor_type, IFNULL(target_type, '') AS tt, source, COUNT(*)
FROM events
WHERE ip IS NOT NULL
GROUP BY ip, d, action, outcome, actor_type, tt, source;

DROP TABLE events_fts;
CREATE VIRTUAL TABLE events_fts USING fts5(
    body, t_action, t_category, t_outcome, t_actor_type, t_target_type, t_source, t_who, t_tenant, t_ip,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO events_fts (events_fts, rank) VALUES ('deletemerge', 0);
UPDATE fts_progress SET text_through = 0 WHERE id = 1;
