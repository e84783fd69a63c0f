-- Events by value of each column of `day_counts`, over all days, kept by the writer in the same transaction as
-- the inserts: the filter menus and the action sort's deep pages read a few dozen rows here instead of summing
-- every day. Anything that deletes events (a future retention purge) must subtract here in its own transaction.
CREATE TABLE value_counts (
    col   TEXT    NOT NULL,
    value TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (col, value)
) WITHOUT ROWID;

INSERT INTO value_counts (col, value, n) SELECT col, value, SUM(n) FROM day_counts GROUP BY col, value;
