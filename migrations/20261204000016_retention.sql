-- Retention (docs/trust.md): the audit log's own settings, and the log indexes each purge removed.

-- Settings of the audit log itself (not of the panel that hosts it): `retention_days` (absent: keep forever).
CREATE TABLE audit_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Runs of log indexes whose events a retention purge deleted, and the id of that purge's
-- `audit.retention_purge` event: verification reports them as purged, not missing. Their leaf hashes stay.
CREATE TABLE log_purges (
    first INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL,
    purge TEXT    NOT NULL
);
