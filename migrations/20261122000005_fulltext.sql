-- Free-text search: a contentless trigram index over the searchable text of each event, keyed by
-- `events.seq`. It is filled behind ingestion by a background indexer (so that ingestion stays fast);
-- `indexed_through` is the highest `seq` it holds, and search reads rows above it directly.
CREATE VIRTUAL TABLE events_fts USING fts5(body, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE TABLE fts_progress (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
INSERT INTO fts_progress (id, indexed_through) VALUES (1, 0);
