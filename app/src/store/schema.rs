//! What the migrations laid down, written once for the Rust side: the events table's columns and the three
//! ways statements name them, the actor key, days and blocks of row ids, the free-text index's layout, and
//! how a stored row becomes a page row or a whole event (a value that cannot be decoded is an error naming
//! its row, never a default).

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::error::StoreError;
use crate::model::{Actor, ActorType, Event, EventRow, Outcome, RecordedBy, Target, browser, ip, time};

/// Where a stored column of an event is read.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// On a page of the table and in a whole event.
    Both,
    /// Only on a page of the table (never `details`: a page stays small).
    Page,
    /// Only in a whole event (the detail view, export).
    Whole,
    /// Only by SQL (a filter's column).
    Neither,
}

/// Every stored column of an event, in the order the insert names them, with where it is read: the one list
/// the three statements below are made from.
const COLUMNS: [(&str, Read); 19] = [
    ("id", Read::Both),
    ("ts", Read::Both),
    ("received_at", Read::Whole),
    ("action", Read::Both),
    ("category", Read::Neither),
    ("outcome", Read::Both),
    ("actor_type", Read::Both),
    ("actor_id", Read::Both),
    ("actor_name", Read::Both),
    ("actor_email", Read::Both),
    ("target_type", Read::Both),
    ("target_id", Read::Both),
    ("target_name", Read::Both),
    ("source", Read::Both),
    ("ip", Read::Both),
    ("user_agent", Read::Both),
    ("details", Read::Whole),
    ("summary", Read::Page),
    ("tenant", Read::Whole),
];

/// The names of the columns `read` keeps, in `COLUMNS`' order, joined with `, `.
fn names(read: impl Fn(Read) -> bool) -> String {
    let kept: Vec<&str> = COLUMNS
        .iter()
        .filter(|(_, r)| read(*r))
        .map(|(name, _)| *name)
        .collect();
    kept.join(", ")
}

/// The columns a page of the table shows, in `PageRow`'s order.
pub(super) fn page_columns() -> &'static str {
    static LIST: LazyLock<String> = LazyLock::new(|| names(|r| matches!(r, Read::Both | Read::Page)));
    &LIST
}

/// The columns of a whole event (the detail view, export), in `StoredEvent`'s and `ExportRecord`'s order, then
/// its log index and who recorded it (migration 15).
pub(super) fn full_columns() -> &'static str {
    static LIST: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{}, {LOG_INDEX} AS log_index, {RECORDED_BY} AS recorded_by",
            names(|r| matches!(r, Read::Both | Read::Whole))
        )
    });
    &LIST
}

/// An event's place in the log: its row id less one (the writer gives each event the row id after the log's
/// last leaf).
pub(super) const LOG_INDEX: &str = "events.seq - 1";

/// The `recorded_by` JSON of an event, from the recorders it names by row id (migration 15).
const RECORDED_BY: &str = "(SELECT body FROM recorders WHERE recorders.id = events.recorder)";

/// The insert of one event: its row id (`?1`), every stored column bound `?2`… in `COLUMNS`' order, then its
/// recorder's row id.
pub(super) fn insert_event() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let params: Vec<String> = (1..=COLUMNS.len() + 2).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO events (seq, {}, recorder) VALUES ({}) ON CONFLICT (id) DO NOTHING",
            names(|_| true),
            params.join(", ")
        )
    });
    &SQL
}

/// The actor key (migration 8): events are indexed by one key per actor, its email, else its id, else its
/// name. `events_by_actor` indexes exactly this expression, so queries must write it exactly so.
pub(super) const WHO: &str = "COALESCE(actor_email, actor_id, actor_name)";

/// `WHO` in Rust, from an actor's parts.
pub(super) fn who<'a>(id: Option<&'a str>, name: Option<&'a str>, email: Option<&'a str>) -> &'a str {
    email.or(id).or(name).unwrap_or("")
}

/// A UTC day in milliseconds: per-day counts are kept by `ts.div_euclid(DAY_MS)`.
pub(super) const DAY_MS: i64 = 86_400_000;

/// The whole UTC days from `lo` to `hi` (inclusive instants, Unix ms; open when `None`): from the first that
/// starts at or after `lo` to the last that ends at or before `hi`, as an end day (exclusive).
pub(super) fn whole_days(lo: Option<i64>, hi: Option<i64>) -> (Option<i64>, Option<i64>) {
    (
        lo.map(|l| -(-l).div_euclid(DAY_MS)),
        hi.map(|h| (h + 1).div_euclid(DAY_MS)),
    )
}

/// The per-day cubes of one key's events (migrations 11, 21 and 22): each has the columns of `day_cube` after
/// its key column, as `(table, key column)`, in the order of `Keyed`.
pub(super) const KEYED_CUBES: [(&str, &str); 3] = [
    ("actor_day_cube", "who"),
    ("tenant_day_cube", "tenant"),
    ("ip_day_cube", "ip"),
];

/// Which keys a query's events are counted by: an actor key, a tenant, an address (each, when the query
/// names it), in the order of `KEYED_CUBES`.
pub(super) type Keyed = [bool; 3];

/// The per-day cube that counts the events of the keys `keyed` names: `day_cube` for none, a keyed cube for
/// one (migrations 9, 11, 21 and 22); `None` for two or more (an actor within a tenant), which no cube counts.
pub(super) fn day_cube(keyed: Keyed) -> Option<&'static str> {
    let mut named = KEYED_CUBES.iter().zip(keyed).filter(|(_, named)| *named);
    match (named.next(), named.next()) {
        (None, _) => Some("day_cube"),
        (Some(((table, _), _)), None) => Some(table),
        (Some(_), Some(_)) => None,
    }
}

/// Row ids are grouped in blocks of `1 << SEQ_BLOCK_SHIFT` for `seq_blocks` (migration 14, which uses 12 too).
pub(super) const SEQ_BLOCK_SHIFT: u32 = 12;

/// The block of a row id.
pub(super) fn block_of(seq: i64) -> i64 {
    seq >> SEQ_BLOCK_SHIFT
}

/// The row ids of the blocks `first..=last`, inclusive at both ends.
pub(super) fn block_span(first: i64, last: i64) -> (i64, i64) {
    (first << SEQ_BLOCK_SHIFT, ((last + 1) << SEQ_BLOCK_SHIFT) - 1)
}

/// Columns a free-text search looks in, in the order they are indexed.
pub(super) const SEARCHED: [&str; 10] = [
    "action",
    "actor_id",
    "actor_name",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "source",
    "ip",
    "details",
];

/// The values the free-text index holds as tags (migrations 13, 21 and 22): the tag's name (its FTS5 column is
/// `t_<name>`, its values in `fts_tags.col`) and the SQL of its value on `events`. A tag's marker character
/// is U+E000 plus its place here.
pub(super) const TAGS: [(&str, &str); 9] = [
    ("action", "events.action"),
    ("category", "events.category"),
    ("outcome", "events.outcome"),
    ("actor_type", "events.actor_type"),
    ("target_type", "events.target_type"),
    ("source", "events.source"),
    ("who", WHO),
    ("tenant", "events.tenant"),
    ("ip", "events.ip"),
];

/// The place of each filter's tag in `TAGS`.
pub(super) mod tag {
    pub const ACTION: usize = 0;
    pub const CATEGORY: usize = 1;
    pub const OUTCOME: usize = 2;
    pub const ACTOR_TYPE: usize = 3;
    pub const TARGET_TYPE: usize = 4;
    pub const SOURCE: usize = 5;
    pub const WHO: usize = 6;
    pub const TENANT: usize = 7;
    pub const IP: usize = 8;
}

/// A tag's three characters (migration 13): its column's marker, `MARKER + place in TAGS`; then the value's id
/// in `fts_tags`, as `HIGH + id / 65536` and `LOW + id % 65536`. All private-use code points.
pub(super) const MARKER: u32 = 0xE000;
pub(super) const HIGH: u32 = 0xF_0000;
pub(super) const LOW: u32 = 0x10_0000;

/// The tag of the value with id `id` in `fts_tags`, for the tag at `place` in `TAGS`: one trigram.
pub(super) fn tag_token(place: usize, id: i64) -> String {
    let id = id as u32;
    [MARKER + place as u32, HIGH + (id >> 16), LOW + (id & 0xFFFF)]
        .into_iter()
        .filter_map(char::from_u32)
        .collect()
}

/// A tag no event has: a value that is not in `fts_tags` (no indexed event has it).
pub(super) fn absent_tag(place: usize) -> String {
    [MARKER + place as u32, 0xE0FF, 0xE0FF]
        .into_iter()
        .filter_map(char::from_u32)
        .collect()
}

/// A page row as SQLite returns it in a JSON array (`page_columns()`, in that order: serde reads a struct from
/// an array field by field).
#[derive(Debug, serde::Deserialize)]
pub(super) struct PageRow {
    id: String,
    ts: i64,
    action: String,
    outcome: String,
    actor_type: String,
    actor_id: Option<String>,
    actor_name: Option<String>,
    actor_email: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    target_name: Option<String>,
    source: String,
    ip: Option<String>,
    user_agent: Option<String>,
    summary: String,
}

/// A page's rows, each with its time in milliseconds (for the cursor after it).
pub(super) type PageRows = Vec<(i64, EventRow)>;

impl PageRow {
    /// The row as the table shows it (IP masked), with its time in milliseconds.
    pub(super) fn into_row(self) -> (i64, EventRow) {
        let PageRow {
            id,
            ts,
            action,
            outcome,
            actor_type,
            actor_id,
            actor_name,
            actor_email,
            target_type,
            target_id,
            target_name,
            source,
            ip,
            user_agent,
            summary,
        } = self;
        let row = EventRow {
            id,
            timestamp: time::format_millis(ts),
            action,
            outcome,
            actor_type,
            actor_id,
            actor_name,
            actor_email,
            target_type,
            target_id,
            target_name,
            source,
            ip: ip.map(|s| ip::mask(&s)),
            browser: user_agent.as_deref().and_then(browser::readable),
            summary,
        };
        (ts, row)
    }
}

/// A whole event's stored values (`full_columns()`), as read by name.
#[derive(sqlx::FromRow)]
pub(super) struct StoredEvent {
    pub id: String,
    pub ts: i64,
    pub received_at: i64,
    pub action: String,
    pub outcome: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub source: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: String,
    pub tenant: Option<String>,
    pub log_index: i64,
    /// None only when the row names a recorder that is not stored.
    pub recorded_by: Option<String>,
}

impl StoredEvent {
    /// A row of `full_columns()` read through rusqlite.
    pub(super) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
        Ok(StoredEvent {
            id: r.get(0)?,
            ts: r.get(1)?,
            received_at: r.get(2)?,
            action: r.get(3)?,
            outcome: r.get(4)?,
            actor_type: r.get(5)?,
            actor_id: r.get(6)?,
            actor_name: r.get(7)?,
            actor_email: r.get(8)?,
            target_type: r.get(9)?,
            target_id: r.get(10)?,
            target_name: r.get(11)?,
            source: r.get(12)?,
            ip: r.get(13)?,
            user_agent: r.get(14)?,
            details: r.get(15)?,
            tenant: r.get(16)?,
            log_index: r.get(17)?,
            recorded_by: r.get(18)?,
        })
    }

    /// The event, or the error that names the first value of the row that cannot be what it claims.
    pub(super) fn decode(self) -> Result<Event, StoreError> {
        let corrupt = |column, problem: String| StoreError::corrupt("events", &self.id, column, problem);
        let outcome = Outcome::parse(&self.outcome).ok_or_else(|| corrupt("outcome", self.outcome.clone()))?;
        let kind = ActorType::parse(&self.actor_type).ok_or_else(|| corrupt("actor_type", self.actor_type.clone()))?;
        let details: Map<String, Value> =
            serde_json::from_str(&self.details).map_err(|e| corrupt("details", e.to_string()))?;
        let recorded_by = self
            .recorded_by
            .as_deref()
            .ok_or_else(|| corrupt("recorder", "names no recorder".into()))?;
        let recorded_by: RecordedBy =
            serde_json::from_str(recorded_by).map_err(|e| corrupt("recorder", e.to_string()))?;
        let target = match self.target_type {
            Some(kind) => Some(Target {
                kind,
                id: self.target_id,
                name: self.target_name,
            }),
            None => None,
        };
        Ok(Event {
            id: self.id,
            timestamp: time::format_millis(self.ts),
            received_at: time::format_millis(self.received_at),
            action: self.action,
            outcome,
            actor: Actor {
                kind,
                id: self.actor_id,
                name: self.actor_name,
                email: self.actor_email,
            },
            target,
            source: self.source,
            tenant: self.tenant,
            ip: self.ip,
            user_agent: self.user_agent,
            details,
            recorded_by: Some(recorded_by),
            log_index: Some(self.log_index as u64),
        })
    }
}

/// Now, as stored times are: Unix milliseconds.
pub(super) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
