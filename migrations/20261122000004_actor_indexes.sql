-- The actor filter resolves its value to the column(s) that hold it, then walks one of these in time order.
DROP INDEX events_by_actor_id;
DROP INDEX events_by_actor_em;
DROP INDEX events_by_actor_nm;
CREATE INDEX events_by_actor_id ON events (actor_id, ts, id);
CREATE INDEX events_by_actor_em ON events (actor_email, ts, id);
CREATE INDEX events_by_actor_nm ON events (actor_name, ts, id);
DROP INDEX events_by_source;
CREATE INDEX events_by_source ON events (source, ts, id);
-- Actor type and target type are filtered alone too: walk them in time order.
CREATE INDEX events_by_actor_type ON events (actor_type, ts, id);
DROP INDEX events_by_target;
CREATE INDEX events_by_target_type ON events (target_type, ts, id);
CREATE INDEX events_by_target_id ON events (target_id, ts, id);
