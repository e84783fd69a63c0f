-- Tenants: a log that serves several customers (projects, organisations) keeps each event's tenant, and a
-- token or a viewer bound to one tenant sees only its events (docs/embedding.md).
--
-- An event without a tenant costs nothing more: these indexes hold only events with one (a query names a
-- tenant as `tenant = ?`, which SQLite reads as implying `tenant IS NOT NULL`, so it uses them). The first
-- serves a tenant's pages in time order; the second its pages sorted by action and its action filters; the
-- third an actor within a tenant (by the actor key of migration 8, written exactly as there), whose events the
-- cubes do not count.
ALTER TABLE events ADD COLUMN tenant TEXT;
CREATE INDEX events_by_tenant ON events (tenant, ts, id) WHERE tenant IS NOT NULL;
CREATE INDEX events_by_tenant_action ON events (tenant, action, ts, id) WHERE tenant IS NOT NULL;
CREATE INDEX events_by_tenant_actor ON events (tenant, COALESCE(actor_email, actor_id, actor_name), ts, id)
    WHERE tenant IS NOT NULL;

-- `day_cube` (migration 9) per tenant: a tenant's first totals, filter counts and deep pages from a few rows
-- per active day, as `actor_day_cube` (migration 11) does for an actor. Events per tenant alone are in
-- `day_counts` and `value_counts` (col 'tenant'), like every other counted column. A purge subtracts here.
CREATE TABLE tenant_day_cube (
    tenant      TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant, day, action, outcome, actor_type, target_type, source)
) WITHOUT ROWID;

-- A token bound to a tenant ingests into it only and reads only its events.
ALTER TABLE api_tokens ADD COLUMN tenant TEXT;

-- The free-text index holds each event's tenant as one more tag (migration 13), so that a search within a
-- tenant is intersected, counted and paged through the index as a search next to any other filter is. The
-- index is rebuilt behind ingestion from the first event, as migration 13's was; until it catches up, search
-- reads the rows above its mark directly. Deleted rows stay tombstones until merged (migration 17).
DROP TABLE events_fts;
CREATE VIRTUAL TABLE events_fts USING fts5(
    body, t_action, t_category, t_outcome, t_actor_type, t_target_type, t_source, t_who, t_tenant,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO events_fts (events_fts, rank) VALUES ('deletemerge', 0);
UPDATE fts_progress SET text_through = 0 WHERE id = 1;
