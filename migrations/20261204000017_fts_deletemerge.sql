-- A retention purge deletes many rows from the free-text index at once. By default FTS5 rewrites a segment
-- in the deleting transaction once a tenth of its rows are deleted: with a million events that took seconds
-- inside one of the purge's transactions while ingestion waited. Deleted rows stay as tombstones instead
-- (searches skip them) until FTS5 merges their segment as new events are indexed.
INSERT INTO events_fts (events_fts, rank) VALUES ('deletemerge', 0);
