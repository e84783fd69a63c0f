-- Webhook endpoints (docs/integrations.md). The events table is their outbox: each endpoint keeps `cursor`,
-- the row id (`events.seq`) of the last event it has delivered or passed over, and its deliverer reads the
-- events after it in commit order. An event and its place in that order are committed together, so every
-- event committed is delivered to every endpoint enabled at the time, at least once, whatever crashes.
CREATE TABLE webhooks (
    id              TEXT    PRIMARY KEY,
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    -- Action patterns, one per line: `*`, `auth.*`, `user.delete`.
    actions         TEXT    NOT NULL DEFAULT '*',
    outcome         TEXT    NOT NULL DEFAULT 'any' CHECK (outcome IN ('any', 'success', 'failure')),
    format          TEXT    NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'chat')),
    enabled         INTEGER NOT NULL DEFAULT 1,
    -- `whsec_` + base64 of 32 random bytes; after a rotation the previous one signs too until
    -- `previous_until` (Unix ms).
    secret          TEXT    NOT NULL,
    previous_secret TEXT,
    previous_until  INTEGER,
    cursor          INTEGER NOT NULL,
    -- Raised by every change of the endpoint: a deliverer saves its progress only for the generation it read.
    generation      INTEGER NOT NULL DEFAULT 0,
    -- The event being retried: since when it fails, how many attempts were made, when the next is due.
    failing_since   INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The recent attempts of each endpoint (the last 50 are kept).
CREATE TABLE webhook_deliveries (
    id         INTEGER PRIMARY KEY,
    webhook    TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id   TEXT    NOT NULL,
    attempt    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    status     INTEGER,
    latency_ms INTEGER NOT NULL,
    error      TEXT
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook, id);
