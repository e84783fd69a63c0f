-- Sessions of people a host panel signed in with a JWT (`?auth_token=` exchanged for a cookie). They are the
-- host's users, not this panel's: who they are is kept as the token said it (`viewer`: id, email, name, role),
-- apart from `users` and `sessions`.
CREATE TABLE host_sessions (
    token_hash TEXT    PRIMARY KEY,
    viewer     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX host_sessions_by_expiry ON host_sessions (expires_at);
