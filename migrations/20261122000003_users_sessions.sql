-- Panel users (admins see the audit log; viewers use the rest of the panel), their sessions, and the
-- sign-in failures that brute-force protection counts.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Only a hash of the session cookie's value is stored.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    ip TEXT    NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_by_ip ON login_failures (ip, at);

CREATE TABLE ip_blocks (
    ip    TEXT    PRIMARY KEY,
    until INTEGER NOT NULL
);

-- Settings of the demo host panel (its Settings tab changes them, and each change is recorded).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES
    ('smtp_relay', 'relay1.acme.com'),
    ('session_timeout_minutes', '480'),
    ('default_quota_mb', '1024');
