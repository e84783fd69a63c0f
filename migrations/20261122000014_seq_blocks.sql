-- The range of event times in each block of 4,096 consecutive row ids (`seq >> 12`), kept by the writer in the
-- same transaction as the inserts. A search that reads a set of rows by row id (a term with up to 10,000 index
-- matches) needs only the newest (or oldest) of them for its page: it reads the blocks whose times can still
-- hold a row of the page, newest block first, and stops at the first block that cannot. Events mostly arrive
-- in time order, so a page usually reads one or two blocks' matches instead of every match.
CREATE TABLE seq_blocks (
    block  INTEGER PRIMARY KEY,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL
);

INSERT INTO seq_blocks (block, min_ts, max_ts)
SELECT seq >> 12, MIN(ts), MAX(ts) FROM events GROUP BY seq >> 12;
