//! Events made ready to store before they reach the writer: ids given, times decided, leaves hashed, on the
//! caller's thread (hashing costs about a microsecond an event; the writer's thread is the one that is
//! scarce).

use ulid::Generator;

use crate::{
    model::ValidEvent,
    trust::{Hash, leaf_hash_of},
};

/// An event made ready to store: its id and times decided, its leaf hashed (on the caller's thread, not the
/// writer's).
pub(super) struct Row {
    pub id: String,
    pub ts: i64,
    pub received_at: i64,
    pub event: ValidEvent,
    pub leaf: Hash,
}

/// Each event made ready to store, received at `received` (Unix ms): its id is its own or a new ULID
/// (monotonic within the batch, so the batch keeps its order), its time its own or `received`.
pub(super) fn prepare(events: Vec<ValidEvent>, received: i64) -> Vec<Row> {
    let mut generator = Generator::new();
    events
        .into_iter()
        .map(|event| {
            let id = match &event.id {
                Some(id) => id.clone(),
                None => generator
                    .generate()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| ulid::Ulid::new().to_string()),
            };
            let ts = event.timestamp.map(crate::model::time::to_millis).unwrap_or(received);
            let received_at = event.received_at.map(crate::model::time::to_millis).unwrap_or(received);
            let leaf = leaf_hash_of(&event.to_event(&id, ts, received_at));
            Row {
                id,
                ts,
                received_at,
                event,
                leaf,
            }
        })
        .collect()
}
