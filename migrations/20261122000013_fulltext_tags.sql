-- Free text next to a filter, through the index. A term common overall but rare among the rows of a filter
-- (a user's name next to `actor_type=api_token`) used to walk every row of the filter testing LIKE: seconds at
-- 10M events. The free-text index now also holds each event's structured values as tags, one column per
-- filter, so that FTS5 intersects the term with the filter (skipping through both lists of rows) and counts
-- the result.
--
-- A tag is one trigram: a marker for its column (U+E000 + column number) and the value's id in `fts_tags`
-- written as two more private-use characters (U+F0000 + id / 65536, U+100000 + id % 65536). Each tag column
-- holds exactly one tag, so no trigram spans two tags, and the search text is matched in `body` only.
--
-- The index is rebuilt: existing events are indexed again behind ingestion by the background indexer, from
-- `text_through` (its own progress mark now; `indexed_through` stays the target-id index's). Until it
-- catches up, search reads the rows above the mark directly, as it always has for rows not yet indexed.
DROP TABLE events_fts;
CREATE VIRTUAL TABLE events_fts USING fts5(
    body, t_action, t_category, t_outcome, t_actor_type, t_target_type, t_source, t_who,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);

CREATE TABLE fts_tags (
    id    INTEGER PRIMARY KEY,
    col   TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (col, value)
);

ALTER TABLE fts_progress ADD COLUMN text_through INTEGER NOT NULL DEFAULT 0;
