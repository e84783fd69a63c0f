-- Tenants: a log that serves several customers (projects, organisations) keeps each event's tenant, and a
-- token or a viewer bound to one tenant sees only its events (docs/embedding.md).
--
-- An event without a tenant costs nothing more: both indexes hold only events with one (a query names a
-- tenant as `tenant = ?`, which SQLite reads as implying `tenant IS NOT NULL`, so it uses them). The first
-- serves a tenant's pages in time order; the second its pages sorted by action and a tenant's action filters.
ALTER TABLE events ADD COLUMN tenant TEXT;
CREATE INDEX events_by_tenant ON events (tenant, ts, id) WHERE tenant IS NOT NULL;
CREATE INDEX events_by_tenant_action ON events (tenant, action, ts, id) WHERE tenant IS NOT NULL;

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
